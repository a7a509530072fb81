// POST /v1/cloudRecord: one linear run of guards, each answering with the spec's failure, then
// the task written to disk before its id is answered.
import type {
  SchemaStartRecordingRequest as StartRecordingRequest,
  SchemaStartRecordingResponse as StartRecordingResponse,
} from '../../generated/types.js';
import { sandboxValidator } from '../spec/sandbox-document.js';
import { withDefaults } from '../spec/defaults.js';
import { apiValidator, startRequestPointer } from '../spec/api-document.js';
import type { ChannelSource } from './channel-source.js';
import { ApiFailure } from './errors.js';
import type { Project, StorageSettings } from './project-store.js';
import type { Limiter } from './rate-limiter.js';
import { isDatabaseUnavailable } from './postgres/unavailable.js';
import { isOutOfSpace } from './storage-errors.js';
import { parseStartRequest } from './start-request.js';
import { BatchRefused, type TaskBatcher } from './task-batcher.js';
import type { Stores } from './stores.js';
import type { ActiveTask, RecordingSettings, Task } from './task-store.js';

export interface StartRecordingDeps {
  projects: Pick<Stores['projects'], 'authenticate'>;
  tasks: Pick<Stores['tasks'], 'activeTask'>;
  /** Writes new tasks by group commit. */
  batcher: TaskBatcher;
  channels: ChannelSource;
  /** The app's budget of start requests (identical repeats of an active task spend none). */
  rateLimiter: Limiter;
  /** Failed authentications, counted apart from the app's budget: per source address and per app_id. */
  failedAuth: { byAddress: Limiter; byApp: Limiter };
  /** Why new tasks are not taken now (shutting down), or nothing. */
  refusal?: () => string | undefined;
  /** Says why storage settings cannot be used, or nothing when they can. */
  storageProblems: (storage: StorageSettings) => string[];
  /** Called once a new task is on disk. */
  onTaskCreated?: (task: Task) => void;
}

const settingNames = Object.keys(
  (sandboxValidator.resolve('/components/schemas/RecordingSettings').value as { properties: object }).properties,
) as (keyof RecordingSettings)[];

// Every recording field's default, as the spec gives it (the fields are all plain values, so the
// defaults of an empty request are those of any request): worked out once, not per request.
const settingDefaults = withDefaults(apiValidator, startRequestPointer, {}) as Record<string, unknown>;

/** The recording fields of a request with every default of the spec applied. */
export function recordingSettings(request: StartRecordingRequest): RecordingSettings {
  const given = request as Record<string, unknown>;
  const settings: Record<string, unknown> = {};
  for (const name of settingNames) {
    const value = given[name] ?? settingDefaults[name];
    if (value !== undefined) settings[name] = value;
  }
  return settings as RecordingSettings;
}

export const sameSettings = (a: RecordingSettings, b: RecordingSettings) =>
  settingNames.every((name) => a[name] === b[name]);

/** Whether `request` asks for `settings`, defaults applied (without building its settings). */
const asksFor = (request: StartRecordingRequest, settings: RecordingSettings) =>
  settingNames.every((name) => settings[name] === ((request as Record<string, unknown>)[name] ?? settingDefaults[name]));

const tooMany = (wait: number, what: string) =>
  new ApiFailure('rate_limited', `${what}; retry after ${wait} second${wait > 1 ? 's' : ''}.`, { 'Retry-After': String(wait) });

/** Seconds a client is asked to wait before retrying a start the service could not take. */
const unavailableRetrySec = 30;
/** The same while the shared database cannot be reached (restarting, failing over). */
const databaseRetrySec = 2;

/**
 * Handles one start request from `address`: the answer, or a promise of it when a new task is
 * written; a failure is the spec's ApiFailure, thrown or rejected. (Only a write waits, so the
 * other answers cost no promise.)
 */
export function startRecording(
  deps: StartRecordingDeps,
  contentType: string | undefined,
  rawBody: string,
  address = '',
): StartRecordingResponse | Promise<StartRecordingResponse> {
  // --- the request itself
  const request = parseStartRequest(contentType, rawBody);

  // --- credentials. Failures are limited apart, so a stranger who knows an app_id cannot spend
  // the app's budget; an address over its failure limit is not even checked (no guessing).
  const blocked = deps.failedAuth.byAddress.waitFor(address);
  if (blocked > 0) throw tooMany(blocked, 'Too many failed authentications from this address');
  const project = deps.projects.authenticate(request.app_id, request.project_id, request.sign_key);
  if (!project) {
    const failed = (byAddress: number, byApp: number) => {
      const wait = Math.max(byAddress, byApp);
      if (wait > 0) throw tooMany(wait, `Too many failed authentications for app_id ${request.app_id}`);
      throw new ApiFailure('invalid_credentials', 'app_id, project_id and sign_key do not identify a project.');
    };
    const [byAddress, byApp] = [deps.failedAuth.byAddress.take(address), deps.failedAuth.byApp.take(request.app_id)];
    // The fleet's limits answer with a promise; the embedded server's at once.
    if (byAddress instanceof Promise || byApp instanceof Promise) return Promise.all([byAddress, byApp]).then(([a, b]) => failed(a, b), databaseAway);
    return failed(byAddress, byApp);
  }

  // --- an identical repeat of the active task (a retry after a lost answer) gets its task, free
  const active = deps.tasks.activeTask(request.app_id, request.channel);
  if (active && active.project_id === request.project_id && asksFor(request, active.settings)) {
    return { code: 'success', task_id: active.task_id };
  }

  // --- the app's request rate
  const wait = deps.rateLimiter.take(request.app_id);
  if (wait instanceof Promise) return wait.then((seconds) => admitted(deps, request, project, active, seconds), databaseAway);
  return admitted(deps, request, project, active, wait);
}

/** The rest of a start once its app's rate is known: the preconditions, then the task written. */
function admitted(
  deps: StartRecordingDeps,
  request: StartRecordingRequest,
  project: Readonly<Project>,
  active: ActiveTask | undefined,
  wait: number,
): StartRecordingResponse | Promise<StartRecordingResponse> {
  if (wait > 0) throw tooMany(wait, `More than the allowed requests in one second for app_id ${request.app_id}`);

  // --- the project's preconditions
  if (!project.recording_enabled) {
    throw new ApiFailure('recording_not_enabled', `Recording is not enabled for project ${project.project_id}.`);
  }
  if (!project.storage) {
    throw new ApiFailure('storage_not_configured', `Project ${project.project_id} has no object-storage configuration.`);
  }
  const storageProblems = deps.storageProblems(project.storage);
  if (storageProblems.length) {
    throw new ApiFailure(
      'storage_not_configured',
      `Project ${project.project_id} has no usable object-storage configuration: ${storageProblems.join('; ')}.`,
    );
  }

  // --- the channel
  if (deps.channels.members(request.app_id, request.channel).length === 0) {
    throw new ApiFailure('channel_empty', `No user is in channel ${request.channel}.`);
  }
  if (active) throw alreadyRecording(request.channel, active);

  // --- the task, on disk before its id is answered (written with the starts that came with it)
  const refusal = deps.refusal?.();
  if (refusal) throw unavailable(refusal);
  const settings = recordingSettings(request);
  return deps.batcher.submit({ app_id: request.app_id, project_id: request.project_id, channel: request.channel, settings }).then(
    (outcome) => {
      if (outcome.kind === 'conflict') throw alreadyRecording(request.channel, outcome.task);
      if (outcome.kind === 'created') deps.onTaskCreated?.(outcome.task);
      return { code: 'success', task_id: outcome.task.task_id };
    },
    (error: unknown) => {
      if (error instanceof BatchRefused) throw unavailable(error.message);
      if (isOutOfSpace(error)) throw unavailable('The service cannot store new tasks now: its disk is full');
      return databaseAway(error);
    },
  );
}

const alreadyRecording = (channel: string, active: ActiveTask) =>
  new ApiFailure('channel_already_recording', `Channel ${channel} is already being recorded by task ${active.task_id} with different settings.`);

/** A database that cannot be reached is a 503 (it is back in seconds, restarting); anything else is thrown on. */
function databaseAway(error: unknown): never {
  if (isDatabaseUnavailable(error)) throw unavailable('The service cannot reach its database now', databaseRetrySec);
  throw error;
}

const unavailable = (why: string, seconds = unavailableRetrySec) =>
  new ApiFailure('service_unavailable', `${why}. Retry after ${seconds} seconds.`, { 'Retry-After': String(seconds) });
