// Recording tasks in SQLite. Ids come from an AUTOINCREMENT key: unique, increasing and never
// reused, also after a restart or after the newest task is deleted.
import type { SchemaRecordingSettings as RecordingSettings, SchemaTask as Task } from '../../generated/sandbox-types.js';
import { statement, transaction, type Db, type Named } from './database.js';
import type { ActiveCounts } from './metrics.js';
import { PairMap } from './pair-map.js';
import type { BatchOutcome, NewTask, SameSettings } from './task-batcher.js';
import { announces } from './webhook-events.js';

export type { RecordingSettings, Task };
export type TaskState = Task['state'];

/** A task as a store reads it back: times in ms, its JSON columns parsed. */
export interface StoredTask {
  task_id: number;
  app_id: string;
  project_id: string;
  channel: string;
  settings: RecordingSettings;
  state: TaskState;
  created_at: number;
  ended_at: number | null;
  end_reason: Task['end_reason'];
  failure_reason: string | null;
  files: Task['files'];
  progress: Task['progress'] | null;
}

/** A task as the API shows it; a recording's progress (seconds so far) is computed here, not written on a timer. */
export const toTask = (row: StoredTask, at: number): Task => ({
  task_id: row.task_id,
  app_id: row.app_id,
  project_id: row.project_id,
  channel: row.channel,
  state: row.state,
  settings: row.settings,
  created_at: new Date(row.created_at).toISOString(),
  ended_at: row.ended_at === null ? null : new Date(row.ended_at).toISOString(),
  end_reason: row.end_reason,
  failure_reason: row.failure_reason,
  files: row.files,
  progress: row.progress ?? (row.state === 'recording' ? { step: 'recording', done: Math.max(0, (at - row.created_at) / 1000), total: 0 } : null),
});

/** A row of SQLite's tasks table: the JSON columns as text. */
interface TaskRow extends Omit<StoredTask, 'settings' | 'files' | 'progress'> {
  settings: string;
  files: string;
  progress: string | null;
}

const fromRow = (row: TaskRow, at: number): Task =>
  toTask({ ...row, settings: JSON.parse(row.settings) as RecordingSettings, files: JSON.parse(row.files) as Task['files'], progress: row.progress === null ? null : (JSON.parse(row.progress) as Task['progress']) }, at);

/** The counts of `rows` (state, n) as the metrics read them, a state without tasks counted 0. */
export const countsOf = (rows: { state: TaskState; n: number | string }[]): ActiveCounts => {
  const counts: ActiveCounts = { recording: 0, finalizing: 0, uploading: 0 };
  for (const row of rows) if (row.state in counts) counts[row.state as keyof ActiveCounts] = Number(row.n);
  return counts;
};

/** What a start needs to know of its channel's active task. */
export interface ActiveTask {
  task_id: number;
  project_id: string;
  settings: RecordingSettings;
}

/** The changes a task can go through after it is created. */
export interface TaskChanges {
  state?: TaskState;
  ended_at?: number;
  end_reason?: NonNullable<Task['end_reason']>;
  failure_reason?: string | null;
  files?: Task['files'];
  progress?: Task['progress'];
}

/**
 * Told of a task as it is created and as it enters another state, inside the transaction that
 * writes it: what the change makes beside it (its webhook event) commits with it or not at all.
 */
export type Announce = (task: Task) => void;

export function createTaskStore(db: Db, now: () => number = Date.now, announce?: Announce) {
  const insert = statement<[Named]>(
    db,
    `INSERT INTO tasks (app_id, project_id, channel, settings, state, created_at)
     VALUES (@app_id, @project_id, @channel, @settings, 'recording', @created_at)`,
  );
  const byId = statement<[number], TaskRow>(db, 'SELECT * FROM tasks WHERE task_id = ?');
  const active = statement<[string, string], TaskRow>(
    db,
    `SELECT * FROM tasks WHERE app_id = ? AND channel = ? AND state = 'recording' ORDER BY task_id DESC LIMIT 1`,
  );
  const inState = statement<[string], TaskRow>(db, 'SELECT * FROM tasks WHERE state = ? ORDER BY task_id DESC');
  const all = statement<[], TaskRow>(db, 'SELECT * FROM tasks ORDER BY task_id DESC');
  const inFlight = statement<[], { state: TaskState; n: number }>(
    db,
    `SELECT state, count(*) AS n FROM tasks WHERE state IN ('recording', 'finalizing', 'uploading') GROUP BY state`,
  );

  // The active task of each channel a start asked about, so an identical repeat reads no row. Filled
  // on read; an entry goes when its task changes (it is no longer active then), and all go when a
  // transaction fails (one may be a task that was never committed). Only active tasks are kept: at
  // most one entry a recording.
  const activeTasks = new PairMap<ActiveTask>();

  const store = {
    /** Writes a new recording task and returns it; committed to disk when this returns. */
    create(fields: { app_id: string; project_id: string; channel: string; settings: RecordingSettings }): Task {
      const write = () => {
        const { app_id, project_id, channel } = fields;
        const { lastInsertRowid } = insert.run({ app_id, project_id, channel, settings: JSON.stringify(fields.settings), created_at: now() });
        const task = fromRow(byId.get(Number(lastInsertRowid))!, now());
        announce?.(task);
        return task;
      };
      // A batch's transaction holds every create; one alone gets its own when it announces.
      return announce && !db.isTransaction ? transaction(db, write) : write();
    },
    get: (taskId: number): Task | undefined => {
      const row = byId.get(taskId);
      return row && fromRow(row, now());
    },
    /** The task recording the channel now, if any. */
    activeFor: (appId: string, channel: string): Task | undefined => {
      const row = active.get(appId, channel);
      return row && fromRow(row, now());
    },
    /** The task recording the channel now, if any: what a start compares itself with. */
    activeTask(appId: string, channel: string): ActiveTask | undefined {
      let task = activeTasks.get(appId, channel);
      if (!task) {
        const row = active.get(appId, channel);
        if (!row) return undefined;
        task = { task_id: row.task_id, project_id: row.project_id, settings: JSON.parse(row.settings) as RecordingSettings };
        activeTasks.set(appId, channel, task);
      }
      return task;
    },
    list: (state?: TaskState): Task[] => {
      const at = now();
      return (state ? inState.all(state) : all.all()).map((row) => fromRow(row, at));
    },
    /** Tasks in each state still in flight (from the state index: finished tasks are not read). */
    countActive: (): ActiveCounts => countsOf(inFlight.all()),
    /** Applies `changes` to the task (with `onlyFrom`, only while it is in that state) and returns it; undefined when it was not. */
    update(taskId: number, changes: TaskChanges, onlyFrom?: TaskState): Task | undefined {
      const sets = Object.keys(changes).map((column) => `${column} = @${column}`);
      const values = Object.fromEntries(
        Object.entries(changes).map(([k, v]) => [k, k === 'files' || k === 'progress' ? (v === null ? null : JSON.stringify(v)) : v]),
      );
      const announcing = announce !== undefined && changes.state !== undefined && announces(changes.state);
      const write = () => {
        const before = byId.get(taskId)?.state;
        if (onlyFrom !== undefined && before !== onlyFrom) return undefined;
        if (sets.length) statement<[Named]>(db, `UPDATE tasks SET ${sets.join(', ')} WHERE task_id = @task_id`).run({ ...values, task_id: taskId });
        const row = byId.get(taskId)!;
        activeTasks.delete(row.app_id, row.channel);
        const task = fromRow(row, now());
        if (announcing && changes.state !== before) announce!(task);
        return task;
      };
      // A change of state commits with what it announces.
      return announcing ? store.transaction(write) : write();
    },
    /** Runs `work` in one transaction: one commit, one fsync, for all it writes. */
    transaction: <T>(work: () => T): T => {
      try {
        return transaction(db, work);
      } catch (error) {
        activeTasks.clear();
        throw error;
      }
    },
    /** Epoch ms of a task's start, for timelines. */
    createdAt: (taskId: number): number => byId.get(taskId)!.created_at,
    /**
     * Writes a batch of new tasks in one transaction (one fsync): each is created, or finds its
     * channel's recording task (one of this batch's too) and is a repeat of it or a conflict with it.
     */
    createBatch: (batch: NewTask[], sameSettings: SameSettings): BatchOutcome[] =>
      store.transaction(() =>
        batch.map((task): BatchOutcome => {
          const active = store.activeTask(task.app_id, task.channel);
          if (!active) return { kind: 'created', task: store.create(task) };
          return active.project_id === task.project_id && sameSettings(active.settings, task.settings) ? { kind: 'repeat', task: active } : { kind: 'conflict', task: active };
        }),
      ),
  };
  return store;
}

export type TaskStore = ReturnType<typeof createTaskStore>;
