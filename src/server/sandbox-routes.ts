// The sandbox control API: one handler per operationId of openapi/sandbox/, routed from the
// spec's own paths so the two cannot drift.
import type {
  SchemaMemberSettings as MemberSettings,
  SchemaProjectPatch as ProjectPatch,
  SchemaProjectSettings as SandboxProjectSettings,
} from '../../generated/sandbox-types.js';
import type { ChannelMember } from './channel-source.js';
import { MediaFileError, resolveMediaFile } from './media-folder.js';
import { storageSummary, type Project, type StorageSettings } from './project-store.js';
import { SandboxFailure, type SpecRequest } from './spec-request.js';
import type { Stores } from './stores.js';
import type { Task } from './task-store.js';

type MaybePromise<T> = T | Promise<T>;

/** The stores the sandbox works on: the embedded ones answer at once, PostgreSQL's with a promise. */
export interface SandboxDeps extends Pick<Stores, 'projects' | 'channels'> {
  tasks: Pick<Stores['tasks'], 'get' | 'list'>;
  /** Ends a task's recording now (a stop call). */
  stopTask: (taskId: number) => MaybePromise<Task>;
  /** The folder whose files users may publish. */
  mediaDir: string;
}

type Handler = (request: SpecRequest) => Promise<{ status: number; body?: unknown }>;

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
  const task = async (taskId: number) => (await deps.tasks.get(taskId)) ?? throwing(notFound(`task ${taskId}`));
  return {
    getProject: async ({ params }) => {
      const project = deps.projects.get(params.app_id as string, params.project_id as string);
      if (!project) throw notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`);
      return { status: 200, body: projectView(project) };
    },
    putProject: async ({ params, body }) => {
      const settings = body as SandboxProjectSettings;
      const project = await deps.projects.put(params.app_id as string, params.project_id as string, {
        sign_key: settings.sign_key,
        recording_enabled: settings.recording_enabled ?? true,
        storage: (settings.storage ?? null) as StorageSettings | null,
      });
      return { status: 200, body: projectView(project) };
    },
    patchProject: async ({ params, body }) => {
      const changes = body as ProjectPatch;
      const project = await deps.projects.patch(params.app_id as string, params.project_id as string, {
        ...changes,
        storage: changes.storage as StorageSettings | null | undefined,
      });
      if (!project) throw notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`);
      return { status: 200, body: projectView(project) };
    },
    getChannel: async ({ params }) => ({
      status: 200,
      body: {
        app_id: params.app_id,
        channel: params.channel,
        members: deps.channels.source.members(params.app_id as string, params.channel as string).map(memberView),
      },
    }),
    joinChannel: async ({ params, body }) => {
      const settings = body as Required<Omit<MemberSettings, 'media_file'>> & MemberSettings;
      if (settings.media_file !== undefined) {
        try {
          resolveMediaFile(deps.mediaDir, settings.media_file);
        } catch (error) {
          if (error instanceof MediaFileError) throw new SandboxFailure(400, 'invalid_parameter', error.message);
          throw error;
        }
      }
      const member = await deps.channels.join(params.app_id as string, params.channel as string, params.uid as number, settings);
      return { status: 200, body: memberView(member) };
    },
    leaveChannel: async ({ params }) => {
      if (!(await deps.channels.leave(params.app_id as string, params.channel as string, params.uid as number))) {
        throw notFound(`user ${String(params.uid)} in channel ${String(params.channel)}`);
      }
      return { status: 204 };
    },
    listTasks: async ({ query }) => ({ status: 200, body: { tasks: await deps.tasks.list(query.state as Task['state'] | undefined) } }),
    getTask: async ({ params }) => ({ status: 200, body: await task(params.task_id as number) }),
    stopTask: async ({ params }) => {
      await task(params.task_id as number);
      return { status: 200, body: await deps.stopTask(params.task_id as number) };
    },
  };
}

function throwing(error: Error): never {
  throw error;
}
