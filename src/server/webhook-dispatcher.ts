// Sends the outbox's events to the projects' webhooks: each at least once, a task's events in
// order, retried on the spec's schedule. It runs beside the recordings and shares nothing with
// them but the event loop: a receiver that is slow or gone holds one of its slots for the timeout,
// never a start or a render.
import { apiVersion } from '../../generated/response-rules.js';
import { webhookRules } from '../../generated/webhook-rules.js';
import { signWebhook } from '../client/verify-webhook.js';
import type { Project } from './project-store.js';
import { nextAttempt, specSchedule, type DeliverySchedule, type OutboxEvent, type Settlement, type WebhookAttempt } from './webhook-events.js';
import type { Outbox } from './webhook-outbox.js';
import { sendEvent, type SendEvent } from './webhook-sender.js';

export interface DispatcherDeps {
  outbox: Outbox;
  projects: { get(appId: string, projectId: string): Readonly<Project> | undefined };
  log: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
  /** Whether loopback, private and link-local addresses may be sent to. */
  allowPrivate: boolean;
  /** The spec's by default; a shorter first delay for testing a receiver's retries. */
  schedule?: DeliverySchedule;
  /** Attempts under way at once (default 64), and at most so many of them to one project's webhook (default 8). */
  concurrency?: number;
  perProject?: number;
  /** How often the outbox is looked at without being told of new events: retries due, claims let go by a node that died. */
  pollMs?: number;
  now?: () => number;
  send?: SendEvent;
  random?: () => number;
  /** Told of each attempt's outcome, for GET /metrics. */
  metrics?: { attempted(outcome: 'delivered' | 'failed' | 'given_up'): void };
}

/** The URL as the log shows it: without its query or credentials, which may hold a receiver's token. */
const logged = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
};

export function createWebhookDispatcher(deps: DispatcherDeps) {
  const now = deps.now ?? Date.now;
  const schedule = deps.schedule ?? specSchedule;
  const send = deps.send ?? sendEvent;
  const concurrency = deps.concurrency ?? 64;
  // A receiver that does not answer holds this many slots at most; the others serve other projects.
  const perProject = deps.perProject ?? 8;
  const byProject = new Map<string, number>();
  /** Where the next look begins among the projects, so none is always served first. */
  let turn = 0;
  // A claim outlives the attempt's timeout by enough that no other sender takes it while it runs.
  const leaseMs = schedule.timeoutSec * 1000 + 20_000;
  const inFlight = new Map<number, Promise<void>>();
  let running = false;
  let poller: NodeJS.Timeout | undefined;
  const retryTimers = new Set<NodeJS.Timeout>();
  let looking: Promise<void> | undefined;
  let again = false;
  // Aborts the attempts under way at a stop; their events are let go of, not counted as tried.
  let stopping = new AbortController();

  /** Sends one event once, and records what came of it. */
  async function attempt(event: OutboxEvent) {
    const webhook = deps.projects.get(event.app_id, event.project_id)?.webhook;
    if (!webhook) {
      await deps.outbox.settle(event.seq, undefined, { state: 'given_up', reason: "The project's webhook was removed before the event was delivered." });
      deps.metrics?.attempted('given_up');
      return;
    }
    const at = now();
    // The previous secret signs too while a rotation overlaps, so a receiver on either one accepts.
    const secrets = webhook.previous_secret && webhook.previous_until && webhook.previous_until > at ? [webhook.secret, webhook.previous_secret] : [webhook.secret];
    const headers = {
      'content-type': 'application/json',
      'user-agent': `cloudrec-webhooks/${apiVersion}`,
      [webhookRules.signatureHeader]: await signWebhook(event.body, secrets, Math.floor(at / 1000)),
      [webhookRules.eventIdHeader]: event.event_id,
    };
    const result = await send(webhook.url, event.body, headers, { timeoutMs: schedule.timeoutSec * 1000, allowPrivate: deps.allowPrivate, signal: stopping.signal });
    if (stopping.signal.aborted) {
      await deps.outbox.release([event.seq]);
      return;
    }
    const record: WebhookAttempt = { at: new Date(at).toISOString(), url: webhook.url, duration_ms: result.duration_ms, status: result.status, error: result.error };
    const made = event.attempts.length + 1;
    const firstAt = event.attempts.length ? Date.parse(event.attempts[0]!.at) : at;
    const settlement: Settlement = result.error === null ? { state: 'delivered' } : nextAttempt(schedule, made, firstAt, now(), deps.random);
    await deps.outbox.settle(event.seq, record, settlement);
    deps.metrics?.attempted(settlement.state === 'delivered' ? 'delivered' : settlement.state === 'given_up' ? 'given_up' : 'failed');
    const fields = { event_id: event.event_id, type: event.type, task_id: event.task_id, url: logged(webhook.url), attempt: made, status: result.status, ms: result.duration_ms };
    if (settlement.state === 'delivered') deps.log.info(fields, 'webhook event delivered');
    else if (settlement.state === 'given_up') deps.log.warn({ ...fields, reason: result.error }, `webhook event given up: ${settlement.reason}`);
    else {
      deps.log.info({ ...fields, reason: result.error, retry_at: new Date(settlement.next_at).toISOString() }, 'webhook event not delivered; will retry');
      // This sender looks again when it is due (any other sender's poll may take it first).
      const timer = setTimeout(() => {
        retryTimers.delete(timer);
        wake();
      }, Math.max(0, settlement.next_at - now()));
      timer.unref();
      retryTimers.add(timer);
    }
  }

  /** Claims what is due, project by project, as many as there are free slots and each its share of them, and starts sending each. */
  async function look() {
    do {
      again = false;
      const projects = deps.outbox.pendingProjects();
      turn = (turn + 1) % Math.max(1, projects.length);
      for (const key of [...projects.slice(turn), ...projects.slice(0, turn)]) {
        const free = Math.min(concurrency - inFlight.size, perProject - (byProject.get(key) ?? 0));
        if (concurrency - inFlight.size <= 0 || !running) return;
        if (free <= 0) continue;
        for (const event of await deps.outbox.claim(key, free, now(), leaseMs)) {
          byProject.set(key, (byProject.get(key) ?? 0) + 1);
          const run = attempt(event)
            .catch((error: unknown) => {
              // Let go of once a lease would have run out (as a fleet's claim does by itself), so it
              // is tried again then, not at once in a loop.
              deps.log.error({ err: error, event_id: event.event_id, task_id: event.task_id, retry_in_ms: leaseMs }, 'webhook attempt could not be made or recorded; it is tried again');
              setTimeout(() => void Promise.resolve(deps.outbox.release([event.seq])).catch(() => {}), leaseMs).unref();
            })
            .finally(() => {
              inFlight.delete(event.seq);
              const left = byProject.get(key)! - 1;
              if (left) byProject.set(key, left);
              else byProject.delete(key);
              // A slot is free, and the task's next event may be due now.
              wake();
            });
          inFlight.set(event.seq, run);
        }
      }
    } while (again && running);
  }

  /** Looks at the outbox now (once at a time: a call during a look makes it look again). */
  function wake() {
    if (!running) return;
    if (looking) {
      again = true;
      return;
    }
    looking = look()
      .catch((error: unknown) => deps.log.error({ err: error }, 'could not read the webhook outbox; trying again'))
      .finally(() => {
        looking = undefined;
        if (again) wake();
      });
  }

  return {
    /** Starts sending: what is due now, then what is written or falls due. */
    async start() {
      running = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      await deps.outbox.watch(wake);
      poller = setInterval(wake, deps.pollMs ?? 1000);
      poller.unref();
      wake();
    },
    /** Stops claiming, and aborts the attempts under way (their events are sent after the next start, here or on another node). */
    async stop() {
      running = false;
      stopping.abort();
      clearInterval(poller);
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      await looking;
      await Promise.allSettled(inFlight.values());
    },
    /** Resolves once nothing is being sent (for tests). */
    idle: async () => {
      while (looking || inFlight.size) await Promise.allSettled([looking, ...inFlight.values()]);
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
