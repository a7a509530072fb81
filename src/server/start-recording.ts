// POST /v1/cloudRecord: one linear run of guards, each answering with the spec's failure, then
// the task written to disk before its id is answered.
import type {
  SchemaStartRecordingRequest as StartRecordingRequest,
  SchemaStartRecordingResponse as StartRecordingResponse,
} from '../../generated/types.js';
import { sandboxValidator } from '../spec/sandbox-document.js';
import { withDefaults } from '../spec/defaults.js';
import { apiValidator } from '../spec/api-document.js';
import type { ChannelSource } from './channel-source.js';
import { ApiFailure } from './errors.js';
import type { ProjectStore, StorageSettings } from './project-store.js';
import type { createRateLimiter } from './rate-limiter.js';
import { parseStartRequest } from './start-request.js';
import type { RecordingSettings, Task, TaskStore } from './task-store.js';

export interface StartRecordingDeps {
  projects: ProjectStore;
  tasks: TaskStore;
  channels: ChannelSource;
  rateLimiter: ReturnType<typeof createRateLimiter>;
  /** Says why storage settings cannot be used, or nothing when they can. */
  storageProblems: (storage: StorageSettings) => string[];
  /** Called once a new task is on disk. */
  onTaskCreated?: (task: Task) => void;
}

const requestPointer = '/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/schema';
const settingNames = Object.keys(
  (sandboxValidator.resolve('/components/schemas/RecordingSettings').value as { properties: object }).properties,
) as (keyof RecordingSettings)[];

/** The recording fields of a request with every default of the spec applied. */
export function recordingSettings(request: StartRecordingRequest): RecordingSettings {
  const full = withDefaults(apiValidator, requestPointer, request) as Record<string, unknown>;
  return Object.fromEntries(settingNames.filter((n) => full[n] !== undefined).map((n) => [n, full[n]])) as RecordingSettings;
}

const sameSettings = (a: RecordingSettings, b: RecordingSettings) =>
  settingNames.every((name) => a[name] === b[name]);

/** Handles one start request; returns the answer or throws the spec's ApiFailure. */
export function startRecording(
  deps: StartRecordingDeps,
  contentType: string | undefined,
  rawBody: string,
): { response: StartRecordingResponse; task: Task } {
  // --- the request itself
  const request = parseStartRequest(contentType, rawBody);

  // --- the app's request rate
  const wait = deps.rateLimiter.take(request.app_id);
  if (wait > 0) {
    throw new ApiFailure(
      'rate_limited',
      `More than the allowed requests in one second for app_id ${request.app_id}; retry after ${wait} second${wait > 1 ? 's' : ''}.`,
      { 'Retry-After': String(wait) },
    );
  }

  // --- credentials and the project's preconditions
  const project = deps.projects.authenticate(request.app_id, request.project_id, request.sign_key);
  if (!project) throw new ApiFailure('invalid_credentials', 'app_id, project_id and sign_key do not identify a project.');
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
  const settings = recordingSettings(request);
  const active = deps.tasks.activeFor(request.app_id, request.channel);
  if (active) {
    // An identical repeat (a retry after a lost answer) gets the task that is already recording.
    if (active.project_id === request.project_id && sameSettings(active.settings, settings)) {
      return { response: { code: 'success', task_id: active.task_id }, task: active };
    }
    throw new ApiFailure(
      'channel_already_recording',
      `Channel ${request.channel} is already being recorded by task ${active.task_id} with different settings.`,
    );
  }

  // --- the task, on disk before its id is answered
  const task = deps.tasks.create({
    app_id: request.app_id,
    project_id: request.project_id,
    channel: request.channel,
    settings,
  });
  deps.onTaskCreated?.(task);
  return { response: { code: 'success', task_id: task.task_id }, task };
}
