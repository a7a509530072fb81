// Recording tasks in PostgreSQL, shared by every node. The database keeps the API's promises: ids
// from an identity sequence, one recording task per app and channel (a partial unique index), so
// racing starts on different nodes make one task. Each node keeps the recording tasks in memory for
// the start path (an identical repeat reads no row), filled at start and kept true by the NOTIFY
// every change of a task's state sends to all nodes.
import type { ActiveCounts } from '../metrics.js';
import { countsOf, toTask, type ActiveTask, type StoredTask, type Task, type TaskChanges, type TaskState } from '../task-store.js';
import type { BatchOutcome, NewTask, SameSettings } from '../task-batcher.js';
import { PairMap } from '../pair-map.js';
import type { Postgres, Queryable } from './connection.js';
import { notifyChannels } from './migrations.js';
import { announces } from '../webhook-events.js';

/** What a change of a task NOTIFYs (see migrations.ts). */
interface TaskNotice extends ActiveTask {
  app_id: string;
  channel: string;
  state: TaskState;
}

const jsonColumns = new Set(['files', 'progress']);

/** A channel's recording task ended between this batch's insert and its read: the batch is written again. */
class EndedMeanwhile extends Error {}

/** Told of tasks as they are created or enter another state, on the connection of the transaction that writes them (see task-store.ts's Announce). */
export type PgAnnounce = (client: Queryable, tasks: Task[]) => Promise<void>;

export function createPgTaskStore(db: Postgres, now: () => number = Date.now, announce?: PgAnnounce) {
  const recording = new PairMap<ActiveTask>();
  const watchers: ((taskId: number, state: TaskState) => void)[] = [];

  const apply = (notice: TaskNotice) => {
    if (notice.state === 'recording') {
      recording.set(notice.app_id, notice.channel, { task_id: notice.task_id, project_id: notice.project_id, settings: notice.settings });
    } else if (recording.get(notice.app_id, notice.channel)?.task_id === notice.task_id) {
      recording.delete(notice.app_id, notice.channel);
    }
  };

  /** Reads every recording task again (at start, and after the listening connection was lost). */
  async function reload() {
    const { rows } = await db.query<TaskNotice>(`SELECT task_id, app_id, project_id, channel, state, settings FROM tasks WHERE state = 'recording'`);
    recording.clear();
    for (const row of rows) apply(row);
  }

  const byId = async (client: Queryable, taskId: number) => (await client.query<StoredTask>('SELECT * FROM tasks WHERE task_id = $1', [taskId])).rows[0];

  /** One attempt at createBatch. */
  async function writeBatch(batch: NewTask[], sameSettings: SameSettings): Promise<BatchOutcome[]> {
    const createdAt = now();
    const outcomes = await db.transaction(async (client) => {
      // One statement for the batch. A row whose channel another transaction is writing waits for
      // it; if that one commits, this row is skipped and found below as the channel's task.
      const inserted = await client.query<StoredTask>(
        `INSERT INTO tasks (app_id, project_id, channel, settings, state, created_at)
         SELECT app_id, project_id, channel, settings, 'recording', $5
           FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS i(app_id, project_id, channel, settings, n)
           ORDER BY n
         ON CONFLICT (app_id, channel) WHERE state = 'recording' DO NOTHING
         RETURNING *`,
        [batch.map((t) => t.app_id), batch.map((t) => t.project_id), batch.map((t) => t.channel), batch.map((t) => JSON.stringify(t.settings)), createdAt],
      );
      // Each new task as the API shows it, made once: for its announcement and for its outcome.
      const createdTasks = inserted.rows.map((row) => toTask(row, createdAt));
      const created = new PairMap<Task>();
      for (const task of createdTasks) created.set(task.app_id, task.channel, task);
      if (announce && createdTasks.length) await announce(client, createdTasks);
      const missing = batch.filter((t) => !created.get(t.app_id, t.channel));
      const existing = new PairMap<ActiveTask>();
      if (missing.length) {
        const { rows } = await client.query<TaskNotice>(
          `SELECT t.task_id, t.app_id, t.project_id, t.channel, t.settings FROM tasks t
             JOIN unnest($1::text[], $2::text[]) AS m(app_id, channel) USING (app_id, channel)
            WHERE t.state = 'recording'`,
          [missing.map((t) => t.app_id), missing.map((t) => t.channel)],
        );
        for (const row of rows) existing.set(row.app_id, row.channel, { task_id: row.task_id, project_id: row.project_id, settings: row.settings });
      }
      // The first start of a channel in the batch made its task; the others are repeats of it or conflicts.
      const claimed = new PairMap<true>();
      return batch.map((task): BatchOutcome => {
        const row = created.get(task.app_id, task.channel);
        if (row && !claimed.get(task.app_id, task.channel)) {
          claimed.set(task.app_id, task.channel, true);
          return { kind: 'created', task: row };
        }
        const active: ActiveTask | undefined = row ? { task_id: row.task_id, project_id: row.project_id, settings: row.settings } : existing.get(task.app_id, task.channel);
        // Gone between the insert and the read (ended at once by another node): the batch is written again.
        if (!active) throw new EndedMeanwhile();
        return active.project_id === task.project_id && sameSettings(active.settings, task.settings) ? { kind: 'repeat', task: active } : { kind: 'conflict', task: active };
      });
    });
    // This node knows its own tasks at once, without waiting for its NOTIFY to come back.
    for (const outcome of outcomes) {
      if (outcome.kind === 'created') {
        const { task_id, project_id, settings, app_id, channel } = outcome.task;
        recording.set(app_id, channel, { task_id, project_id, settings });
      }
    }
    return outcomes;
  }

  return {
    /** Starts following the changes of every node, after reading the recording tasks. */
    open: () =>
      db.listen(
        notifyChannels.tasks,
        (payload) => {
          const notice = JSON.parse(payload) as TaskNotice;
          apply(notice);
          for (const watcher of watchers) watcher(notice.task_id, notice.state);
        },
        reload,
      ),

    /** The task recording the channel now, as this node last heard of it. */
    activeTask: (appId: string, channel: string): ActiveTask | undefined => recording.get(appId, channel),

    /**
     * Writes the new tasks of one batch in one transaction: each is created, or finds the channel's
     * recording task (its own batch's or another node's) and is a repeat of it or a conflict with it.
     * Resolves after the COMMIT.
     */
    async createBatch(batch: NewTask[], sameSettings: SameSettings): Promise<BatchOutcome[]> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeBatch(batch, sameSettings);
        } catch (error) {
          if (!(error instanceof EndedMeanwhile) || attempt === 3) throw error;
        }
      }
    },

    /** Calls `listener` with each task whose state any node changed (a stop through an API node, say). */
    watch: (listener: (taskId: number, state: TaskState) => void) => void watchers.push(listener),

    activeFor: async (appId: string, channel: string): Promise<Task | undefined> => {
      const { rows } = await db.query<StoredTask>(`SELECT * FROM tasks WHERE app_id = $1 AND channel = $2 AND state = 'recording'`, [appId, channel]);
      return rows[0] && toTask(rows[0], now());
    },
    get: async (taskId: number): Promise<Task | undefined> => {
      const row = await byId(db, taskId);
      return row && toTask(row, now());
    },
    list: async (state?: TaskState): Promise<Task[]> => {
      const { rows } = state
        ? await db.query<StoredTask>('SELECT * FROM tasks WHERE state = $1 ORDER BY task_id DESC', [state])
        : await db.query<StoredTask>('SELECT * FROM tasks ORDER BY task_id DESC');
      const at = now();
      return rows.map((row) => toTask(row, at));
    },
    /** Tasks in each state still in flight, fleet-wide (from the state index: finished tasks are not read). */
    countActive: async (): Promise<ActiveCounts> =>
      countsOf(
        (await db.query<{ state: TaskState; n: string }>(`SELECT state, count(*) AS n FROM tasks WHERE state IN ('recording', 'finalizing', 'uploading') GROUP BY state`)).rows,
      ),
    /** Applies `changes` to the task (with `onlyFrom`, only while it is in that state) and returns it; undefined when it was not. */
    async update(taskId: number, changes: TaskChanges, onlyFrom?: TaskState): Promise<Task | undefined> {
      const columns = Object.keys(changes) as (keyof TaskChanges)[];
      const values = columns.map((column) => {
        const value = changes[column];
        return jsonColumns.has(column) && value !== null ? JSON.stringify(value) : value;
      });
      const sets = columns.map((column, i) => `${column} = $${i + 2}`);
      if (onlyFrom !== undefined) values.push(onlyFrom);
      const only = onlyFrom === undefined ? '' : ` AND state = $${values.length + 1}`;
      const announcing = announce !== undefined && changes.state !== undefined && announces(changes.state);
      const write = async (client: Queryable) => {
        if (!sets.length) return (await client.query<StoredTask>('SELECT * FROM tasks WHERE task_id = $1', [taskId])).rows[0];
        // The state before, read under the row's lock: a change of state is announced once.
        const before = announcing ? (await client.query<{ state: TaskState }>('SELECT state FROM tasks WHERE task_id = $1 FOR UPDATE', [taskId])).rows[0]?.state : undefined;
        const updated = (await client.query<StoredTask>(`UPDATE tasks SET ${sets.join(', ')} WHERE task_id = $1${only} RETURNING *`, [taskId, ...values])).rows[0];
        if (updated && announcing && before !== changes.state) await announce!(client, [toTask(updated, now())]);
        return updated;
      };
      // A change of state commits with what it announces.
      const row = announcing ? await db.transaction(write) : await write(db);
      if (row) apply({ task_id: row.task_id, app_id: row.app_id, project_id: row.project_id, channel: row.channel, state: row.state, settings: row.settings });
      return row && toTask(row, now());
    },
  };
}

export type PgTaskStore = ReturnType<typeof createPgTaskStore>;
