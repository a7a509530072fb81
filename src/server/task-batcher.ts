// Group commit of new tasks: the starts that arrive together are written in one transaction, so
// with `synchronous = FULL` they share one fsync, and each is answered once that commit is on disk.
// The channel is checked again inside the transaction: two starts for one channel in the same batch
// give one task (the second is an identical repeat of it, or a conflict).
import type { ActiveTask, RecordingSettings, Task } from './task-store.js';

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

export type SameSettings = (a: RecordingSettings, b: RecordingSettings) => boolean;

/** Where a batch is written in one transaction: the embedded store at once, PostgreSQL with a promise. */
export interface BatchStore {
  createBatch(batch: NewTask[], sameSettings: SameSettings): BatchOutcome[] | Promise<BatchOutcome[]>;
}

export function createTaskBatcher(tasks: BatchStore, sameSettings: SameSettings, refusal: () => string | undefined = () => undefined) {
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
    // Nothing of a batch that failed was written: each start gets the failure.
    const rejectAll = (error: unknown) => batch.forEach((item) => item.reject(error));
    let written: BatchOutcome[] | Promise<BatchOutcome[]>;
    try {
      written = tasks.createBatch(batch.map((item) => item.task), sameSettings);
    } catch (error) {
      return rejectAll(error);
    }
    Promise.resolve(written).then((outcomes) => batch.forEach((item, i) => item.resolve(outcomes[i]!)), rejectAll);
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
