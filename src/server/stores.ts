// What the server keeps, behind one interface with two implementations: the embedded SQLite file
// (one process, the default) and PostgreSQL (any number of nodes, src/server/postgres/). What a
// start reads is answered at once by both (from memory kept true by the store); writes, and what
// the sandbox and the runner read, may be promises.
import { randomBytes } from 'node:crypto';
import type { ChannelSource, ChannelMember } from './channel-source.js';
import type { Db } from './database.js';
import { createProjectStore, type Project, type ProjectSettings } from './project-store.js';
import { createSandboxChannels, type MemberSettings } from './sandbox-channels.js';
import { createSecretBox, type SecretBox } from './secret-box.js';
import type { ActiveCounts } from './metrics.js';
import type { Limiter } from './rate-limiter.js';
import type { BatchStore } from './task-batcher.js';
import type { RunnerTasks } from './task-runner.js';
import { createTaskStore, type ActiveTask, type Task } from './task-store.js';
import { eventFor } from './webhook-events.js';
import { createSqliteOutbox, type Outbox } from './webhook-outbox.js';

type MaybePromise<T> = T | Promise<T>;

export interface Stores {
  projects: {
    get(appId: string, projectId: string): Readonly<Project> | undefined;
    /** The project when `signKey` is its key; undefined otherwise, in time independent of why. */
    authenticate(appId: string, projectId: string, signKey: string): Readonly<Project> | undefined;
    put(appId: string, projectId: string, settings: ProjectSettings): MaybePromise<Project>;
    patch(appId: string, projectId: string, changes: Partial<ProjectSettings>): MaybePromise<Project | undefined>;
  };
  channels: {
    source: ChannelSource;
    join(appId: string, channel: string, uid: number, settings: MemberSettings): MaybePromise<ChannelMember>;
    leave(appId: string, channel: string, uid: number): MaybePromise<boolean>;
  };
  tasks: RunnerTasks &
    BatchStore & {
      /** The task recording the channel now, if any: what a start compares itself with. */
      activeTask(appId: string, channel: string): ActiveTask | undefined;
      /** Tasks in each state still in flight, for the metrics. */
      countActive(): MaybePromise<ActiveCounts>;
    };
  /** The webhook events made by the tasks' state changes, waiting to be sent or sent. */
  outbox: Outbox;
  /** Limits shared by every node (`limit` requests a `windowMs` per key of `namespace`); without, each process counts its own. */
  limiter?(namespace: string, limit: number, windowMs: number): Limiter;
}

/** The stores of the embedded database. */
export function sqliteStores(db: Db, box: SecretBox = createSecretBox(randomBytes(32)), now: () => number = Date.now): Omit<Stores, 'tasks' | 'outbox'> & { tasks: ReturnType<typeof createTaskStore>; outbox: ReturnType<typeof createSqliteOutbox> } {
  const projects = createProjectStore(db, box);
  const outbox = createSqliteOutbox(db);
  // A state change's event is written in its transaction, when the project has a webhook then.
  const announce = (task: Task) => {
    const event = eventFor(task, projects.get(task.app_id, task.project_id), now());
    if (event) outbox.add(event);
  };
  return { projects, channels: createSandboxChannels(db, now), tasks: createTaskStore(db, now, announce), outbox };
}

export type { Task };

/** Ends a task's recording in the store alone: the node that records makes its files (a stop through a node that does not record). */
export async function markStopped(tasks: Stores['tasks'], taskId: number, now: () => number = Date.now): Promise<Task> {
  const task = (await tasks.get(taskId))!;
  if (task.state !== 'recording') return task;
  return (await tasks.update(taskId, { state: 'finalizing', ended_at: now(), end_reason: 'stopped' }, 'recording')) ?? (await tasks.get(taskId))!;
}
