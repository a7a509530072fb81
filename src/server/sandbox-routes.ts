// The sandbox control API: one handler per operationId of openapi/sandbox/, routed from the
// spec's own paths so the two cannot drift.
import type {
  SchemaMemberSettings as MemberSettings,
  SchemaProjectPatch as ProjectPatch,
  SchemaProjectSettings as ProjectSettings,
} from '../../generated/sandbox-types.js';
import type { ChannelMember } from './channel-source.js';
import { MediaFileError, resolveMediaFile } from './media-folder.js';
import { storageSummary, type Project, type ProjectStore, type StorageSettings } from './project-store.js';
import type { SandboxChannels } from './sandbox-channels.js';
import { SandboxFailure, type SpecRequest } from './spec-request.js';
import type { Task, TaskStore } from './task-store.js';

export interface SandboxDeps {
  projects: ProjectStore;
  channels: SandboxChannels;
  tasks: TaskStore;
  /** Ends a task's recording now (a stop call). */
  stopTask: (taskId: number) => Task;
  /** The folder whose files users may publish. */
  mediaDir: string;
}

type Handler = (request: SpecRequest) => { status: number; body?: unknown };

const projectView = (p: Project) => ({ ...p, storage: storageSummary(p.storage) });
const memberView = (m: ChannelMember) => ({
  uid: m.uid,
  audio: m.audio,
  video: m.video,
  dual_stream: m.dualStream,
  ...(m.mediaFile ? { media_file: m.mediaFile } : {}),
  joined_at: new Date(m.joinedAt).toISOString(),
});

const notFound = (what: string) => new SandboxFailure(404, 'not_found', `There is no ${what}.`);

/** The handler of each sandbox operation, by operationId. */
export function sandboxHandlers(deps: SandboxDeps): Record<string, Handler> {
  const task = (taskId: number) => deps.tasks.get(taskId) ?? throwing(notFound(`task ${taskId}`));
  return {
    getProject: ({ params }) => {
      const project = deps.projects.get(params.app_id as string, params.project_id as string);
      if (!project) throw notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`);
      return { status: 200, body: projectView(project) };
    },
    putProject: ({ params, body }) => {
      const settings = body as ProjectSettings;
      const project = deps.projects.put(params.app_id as string, params.project_id as string, {
        sign_key: settings.sign_key,
        recording_enabled: settings.recording_enabled ?? true,
        storage: (settings.storage ?? null) as StorageSettings | null,
      });
      return { status: 200, body: projectView(project) };
    },
    patchProject: ({ params, body }) => {
      const changes = body as ProjectPatch;
      const project = deps.projects.patch(params.app_id as string, params.project_id as string, {
        ...changes,
        storage: changes.storage as StorageSettings | null | undefined,
      });
      if (!project) throw notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`);
      return { status: 200, body: projectView(project) };
    },
    getChannel: ({ params }) => ({
      status: 200,
      body: {
        app_id: params.app_id,
        channel: params.channel,
        members: deps.channels.source.members(params.app_id as string, params.channel as string).map(memberView),
      },
    }),
    joinChannel: ({ params, body }) => {
      const settings = body as Required<Omit<MemberSettings, 'media_file'>> & MemberSettings;
      if (settings.media_file !== undefined) {
        try {
          resolveMediaFile(deps.mediaDir, settings.media_file);
        } catch (error) {
          if (error instanceof MediaFileError) throw new SandboxFailure(400, 'invalid_parameter', error.message);
          throw error;
        }
      }
      const member = deps.channels.join(params.app_id as string, params.channel as string, params.uid as number, settings);
      return { status: 200, body: memberView(member) };
    },
    leaveChannel: ({ params }) => {
      if (!deps.channels.leave(params.app_id as string, params.channel as string, params.uid as number)) {
        throw notFound(`user ${String(params.uid)} in channel ${String(params.channel)}`);
      }
      return { status: 204 };
    },
    listTasks: ({ query }) => ({ status: 200, body: { tasks: deps.tasks.list(query.state as Task['state'] | undefined) } }),
    getTask: ({ params }) => ({ status: 200, body: task(params.task_id as number) }),
    stopTask: ({ params }) => {
      task(params.task_id as number);
      return { status: 200, body: deps.stopTask(params.task_id as number) };
    },
  };
}

function throwing(error: Error): never {
  throw error;
}
