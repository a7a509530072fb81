// Group commit of new tasks: the starts that arrive together are written in one transaction, so
// with `synchronous = FULL` they share one fsync, and each is answered once that commit is on disk.
// The channel is checked again inside the transaction: two starts for one channel in the same batch
// give one task (the second is an identical repeat of it, or a conflict).
import type { ActiveTask, RecordingSettings, Task, TaskStore } from './task-store.js';

export interface NewTask {
  app_id: string;
  project_id: string;
  channel: string;
  settings: RecordingSettings;
}

/** What became of a start: a new task, the channel's active task (identical settings), or a conflict with it. */
export type BatchOutcome = { kind: 'created'; task: Task } | { kind: 'repeat' | 'conflict'; task: ActiveTask };

/** A batch not written because new tasks are refused now (the server is shutting down); the message says why. */
export class BatchRefused extends Error {}

export function createTaskBatcher(
  tasks: TaskStore,
  sameSettings: (a: RecordingSettings, b: RecordingSettings) => boolean,
  refusal: () => string | undefined = () => undefined,
) {
  let pending: { task: NewTask; resolve: (o: BatchOutcome) => void; reject: (e: unknown) => void }[] = [];

  function flush() {
    const batch = pending;
    pending = [];
    // Checked again at the commit: a shutdown that began while these waited has already ended every
    // recording, so a task written now would stay recording with no one to end it.
    const refused = refusal();
    if (refused) {
      for (const item of batch) item.reject(new BatchRefused(refused));
      return;
    }
    let outcomes: BatchOutcome[];
    try {
      outcomes = tasks.transaction(() =>
        batch.map(({ task }): BatchOutcome => {
          const active = tasks.activeTask(task.app_id, task.channel);
          if (!active) return { kind: 'created', task: tasks.create(task) };
          return active.project_id === task.project_id && sameSettings(active.settings, task.settings)
            ? { kind: 'repeat', task: active }
            : { kind: 'conflict', task: active };
        }),
      );
    } catch (error) {
      // Nothing of the batch was written: each start gets the failure.
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => item.resolve(outcomes[i]!));
  }

  return {
    /** Writes `task` with the others of this turn of the event loop; resolves once they are on disk. */
    submit(task: NewTask): Promise<BatchOutcome> {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ task, resolve, reject });
      });
    },
  };
}

export type TaskBatcher = ReturnType<typeof createTaskBatcher>;
