// The sandbox control API: one handler per operationId of openapi/sandbox/, routed from the
// spec's own paths so the two cannot drift.
import { randomBytes } from 'node:crypto';
import type {
  SchemaMemberSettings as MemberSettings,
  SchemaProjectPatch as ProjectPatch,
  SchemaProjectSettings as SandboxProjectSettings,
  SchemaWebhookSettings as WebhookSettings,
} from '../../generated/sandbox-types.js';
import { sandboxValidator } from '../spec/sandbox-document.js';
import type { ChannelMember } from './channel-source.js';
import { MediaFileError, resolveMediaFile } from './media-folder.js';
import { storageSummary, webhookSummary, type Project, type StorageSettings, type Webhook } from './project-store.js';
import { SandboxFailure, type SpecRequest } from './spec-request.js';
import type { Stores } from './stores.js';
import type { Task } from './task-store.js';
import { deliveryView } from './webhook-events.js';

type MaybePromise<T> = T | Promise<T>;

/** The stores the sandbox works on: the embedded ones answer at once, PostgreSQL's with a promise. */
export interface SandboxDeps extends Pick<Stores, 'projects' | 'channels' | 'outbox'> {
  tasks: Pick<Stores['tasks'], 'get' | 'list'>;
  /** Ends a task's recording now (a stop call). */
  stopTask: (taskId: number) => MaybePromise<Task>;
  /** The folder whose files users may publish. */
  mediaDir: string;
  now?: () => number;
}

type Handler = (request: SpecRequest) => Promise<{ status: number; body?: unknown }>;

const projectView = (p: Project, now: number) => ({ ...p, storage: storageSummary(p.storage), webhook: webhookSummary(p.webhook, now) });

/** How long a rotated-out secret keeps signing (the spec's rotate operation says). */
const previousSecretValidMs =
  (sandboxValidator.resolve('/paths/~1sandbox~1projects~1{app_id}~1{project_id}~1webhook~1rotate/post/x-previousSecretValidSec').value as number) * 1000;
/** A new signing secret: `whsec_` and 32 random bytes in base64url. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
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
  const now = deps.now ?? Date.now;
  const task = async (taskId: number) => (await deps.tasks.get(taskId)) ?? throwing(notFound(`task ${taskId}`));
  const project = (params: SpecRequest['params']) =>
    deps.projects.get(params.app_id as string, params.project_id as string) ?? throwing(notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`));
  /** Stores the project's webhook; answers it with `secret` when this call made one. */
  const setWebhook = async (params: SpecRequest['params'], webhook: Webhook | null, madeSecret?: string) => {
    await deps.projects.patch(params.app_id as string, params.project_id as string, { webhook });
    return webhook && { ...webhookSummary(webhook, now())!, ...(madeSecret && { secret: madeSecret }) };
  };
  return {
    getProject: async ({ params }) => ({ status: 200, body: projectView(project(params), now()) }),
    putProject: async ({ params, body }) => {
      const settings = body as SandboxProjectSettings;
      const project = await deps.projects.put(params.app_id as string, params.project_id as string, {
        sign_key: settings.sign_key,
        recording_enabled: settings.recording_enabled ?? true,
        storage: (settings.storage ?? null) as StorageSettings | null,
      });
      return { status: 200, body: projectView(project, now()) };
    },
    patchProject: async ({ params, body }) => {
      const changes = body as ProjectPatch;
      const project = await deps.projects.patch(params.app_id as string, params.project_id as string, {
        ...changes,
        storage: changes.storage as StorageSettings | null | undefined,
      });
      if (!project) throw notFound(`project ${String(params.project_id)} of app ${String(params.app_id)}`);
      return { status: 200, body: projectView(project, now()) };
    },
    putWebhook: async ({ params, body }) => {
      const { url } = body as WebhookSettings;
      const existing = project(params).webhook;
      if (existing) return { status: 200, body: await setWebhook(params, { ...existing, url }) };
      const secret = newSecret();
      return { status: 200, body: await setWebhook(params, { url, secret, previous_secret: null, previous_until: null }, secret) };
    },
    rotateWebhookSecret: async ({ params }) => {
      const existing = project(params).webhook ?? throwing(notFound(`webhook of project ${String(params.project_id)} of app ${String(params.app_id)}`));
      const secret = newSecret();
      return { status: 200, body: await setWebhook(params, { ...existing, secret, previous_secret: existing.secret, previous_until: now() + previousSecretValidMs }, secret) };
    },
    deleteWebhook: async ({ params }) => {
      if (!project(params).webhook) throw notFound(`webhook of project ${String(params.project_id)} of app ${String(params.app_id)}`);
      await setWebhook(params, null);
      return { status: 204 };
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
    listDeliveries: async ({ params }) => {
      await task(params.task_id as number);
      return { status: 200, body: { deliveries: (await deps.outbox.list(params.task_id as number)).map(deliveryView) } };
    },
    stopTask: async ({ params }) => {
      await task(params.task_id as number);
      return { status: 200, body: await deps.stopTask(params.task_id as number) };
    },
  };
}

function throwing(error: Error): never {
  throw error;
}
