// The events a task's state changes make for its project's webhook (the spec's `webhooks`), and
// the schedule they are delivered on (the spec's `x-webhookDelivery`). An event is made in the
// same transaction as the state change it tells of, so one is never lost between the two.
import { randomUUID } from 'node:crypto';
import type { SchemaWebhookAttempt as WebhookAttempt, SchemaWebhookDelivery as WebhookDelivery } from '../../generated/sandbox-types.js';
import type { WebhookEvent } from '../client/verify-webhook.js';
import { apiDocument } from '../spec/api-document.js';
import type { Project } from './project-store.js';
import type { Task, TaskState } from './task-store.js';

export type { WebhookAttempt, WebhookDelivery, WebhookEvent };
export type DeliveryState = WebhookDelivery['state'];

/** An event to write beside the state change that made it. */
export interface NewEvent {
  event_id: string;
  task_id: number;
  app_id: string;
  project_id: string;
  type: WebhookEvent['type'];
  /** The body sent, the same bytes at every attempt. */
  body: string;
  /** Epoch ms. */
  created_at: number;
}

/** An event as the outbox keeps it. */
export interface OutboxEvent extends NewEvent {
  /** Its place in the outbox: a task's events are sent in this order. */
  seq: number;
  state: DeliveryState;
  /** Epoch ms the next attempt is due, while pending. */
  next_at: number | null;
  given_up_reason: string | null;
  attempts: WebhookAttempt[];
}

/** What comes after an attempt: delivered, tried again at `next_at`, or given up. */
export type Settlement = { state: 'delivered' } | { state: 'pending'; next_at: number } | { state: 'given_up'; reason: string };

/** The delivery rules, in the spec's units. */
export interface DeliverySchedule {
  timeoutSec: number;
  firstDelaySec: number;
  factor: number;
  maxDelaySec: number;
  jitter: number;
  giveUpAfterSec: number;
}

/** The spec's schedule (`x-webhookDelivery` at the root of the API spec). */
export const specSchedule = (apiDocument as unknown as { 'x-webhookDelivery': DeliverySchedule })['x-webhookDelivery'];

/** A new event id: `evt_` and 32 hex digits (a random UUID's: 122 random bits, from Node's batched random pool). */
const newEventId = () => `evt_${randomUUID().replaceAll('-', '')}`;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The event a task in `task.state` tells its project's webhook of, at `at`; undefined when the state
 * is not announced or the project has no webhook (events are made only while it has one).
 */
export function eventFor(task: Task, project: Readonly<Project> | undefined, at: number): NewEvent | undefined {
  if (!project?.webhook) return undefined;
  const type = eventTypes[task.state];
  if (!type) return undefined;
  const event_id = newEventId();
  const envelope = {
    id: event_id,
    type,
    created_at: iso(type === 'recording.started' ? Date.parse(task.created_at) : at),
    task_id: task.task_id,
    app_id: task.app_id,
    project_id: task.project_id,
    channel: task.channel,
  };
  const event: WebhookEvent =
    type === 'recording.started' ? { ...envelope, type, data: {} }
    : type === 'recording.failed' ? { ...envelope, type, data: { reason: task.failure_reason ?? 'The task failed.' } }
    : {
        ...envelope,
        type,
        data: {
          ended_at: task.ended_at!,
          end_reason: task.end_reason!,
          // Removed in the moment between the last upload and this write: said, as the schema wants a name.
          bucket: project.storage?.bucket ?? '(the project has no storage settings now)',
          files: task.files.map(({ uploaded: _uploaded, ...file }) => file),
        },
      };
  return { event_id, task_id: task.task_id, app_id: task.app_id, project_id: task.project_id, type, body: JSON.stringify(event), created_at: Date.parse(envelope.created_at) };
}

/** The states a task announces, and the event of each. */
const eventTypes: Partial<Record<TaskState, WebhookEvent['type']>> = {
  recording: 'recording.started',
  completed: 'recording.completed',
  failed: 'recording.failed',
};

/** Whether a task entering `state` makes an event (for its project's webhook). */
export const announces = (state: TaskState) => state in eventTypes;

/**
 * What comes after attempt number `made` (1 for the first) that did not deliver: the next one after
 * the spec's delay (first delay × factor^(made−1), at most the maximum, varied by ± jitter), or given
 * up once that would be later than `giveUpAfterSec` after the first attempt.
 */
export function nextAttempt(schedule: DeliverySchedule, made: number, firstAt: number, at: number, random = Math.random): Settlement {
  const base = Math.min(schedule.firstDelaySec * schedule.factor ** (made - 1), schedule.maxDelaySec);
  const delayMs = base * 1000 * (1 + schedule.jitter * (2 * random() - 1));
  const next = at + Math.round(delayMs);
  if (next - firstAt > schedule.giveUpAfterSec * 1000) {
    return { state: 'given_up', reason: `No 2xx answer within ${formatSeconds(schedule.giveUpAfterSec)} of the first attempt (${made} attempt${made > 1 ? 's' : ''}).` };
  }
  return { state: 'pending', next_at: next };
}

const formatSeconds = (sec: number) => (sec % 3600 === 0 ? `${sec / 3600} hours` : `${sec} seconds`);

/** An event as the sandbox lists it. */
export const deliveryView = (event: OutboxEvent): WebhookDelivery => ({
  event_id: event.event_id,
  type: event.type,
  state: event.state,
  created_at: iso(event.created_at),
  next_attempt_at: event.state === 'pending' && event.next_at !== null ? iso(event.next_at) : null,
  given_up_reason: event.given_up_reason,
  attempts: event.attempts,
  event: JSON.parse(event.body) as WebhookDelivery['event'],
});
