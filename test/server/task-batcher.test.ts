// Group commit: the starts of one turn of the event loop share a transaction (one fsync), and the
// channel rule holds inside it.
import { expect, test } from 'vitest';
import { openDatabase } from '../../src/server/database.js';
import { recordingSettings, sameSettings } from '../../src/server/start-recording.js';
import { createTaskBatcher } from '../../src/server/task-batcher.js';
import { createTaskStore } from '../../src/server/task-store.js';

const ids = { app_id: 'a', project_id: 'p', sign_key: 'k' };
const settings = recordingSettings({ ...ids, channel: 'c' });

function arrange() {
  const tasks = createTaskStore(openDatabase(':memory:'));
  let transactions = 0;
  const transaction = tasks.transaction;
  tasks.transaction = (work) => {
    transactions += 1;
    return transaction(work);
  };
  return { tasks, batcher: createTaskBatcher(tasks, sameSettings), transactions: () => transactions };
}

/** Makes the `nth` task written from now on fail as a full disk does. */
function diskFullAtWrite(tasks: ReturnType<typeof arrange>['tasks'], nth: number) {
  const create = tasks.create;
  let n = 0;
  tasks.create = (fields) => {
    if (++n === nth) throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });
    return create(fields);
  };
}

test('starts that arrive together are written in one transaction, each answered with its own task', async () => {
  const { tasks, batcher, transactions } = arrange();
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => batcher.submit({ ...ids, channel: `room-${i}`, settings })));
  expect(transactions()).toBe(1);
  expect(outcomes.map((o) => o.kind)).toEqual(Array(50).fill('created'));
  expect(new Set(outcomes.map((o) => o.task.task_id)).size).toBe(50);
  expect(tasks.list('recording')).toHaveLength(50);
  await batcher.submit({ ...ids, channel: 'later', settings });
  expect(transactions()).toBe(2);
});

test('two starts for one channel in one batch give one task: a repeat when identical, a conflict when not', async () => {
  const { tasks, batcher } = arrange();
  const other = recordingSettings({ ...ids, channel: 'c', layout_mode: 2 });
  const [first, same, different] = await Promise.all([
    batcher.submit({ ...ids, channel: 'room', settings }),
    batcher.submit({ ...ids, channel: 'room', settings }),
    batcher.submit({ ...ids, channel: 'room', settings: other }),
  ]);
  expect([first!.kind, same!.kind, different!.kind]).toEqual(['created', 'repeat', 'conflict']);
  expect(same!.task.task_id).toBe(first!.task.task_id);
  expect(tasks.list('recording')).toHaveLength(1);
});

test('a commit that fails fails every start of its batch, and writes none', async () => {
  const { tasks, batcher } = arrange();
  diskFullAtWrite(tasks, 3);
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => batcher.submit({ ...ids, channel: `room-${i}`, settings })));
  expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
  expect(tasks.list()).toHaveLength(0);
});

test('a failed commit leaves no trace in what later starts see, though a start of its batch saw its task', async () => {
  const { tasks, batcher } = arrange();
  diskFullAtWrite(tasks, 2);
  // The second start is a repeat of the first's task, not yet committed; the third's write fails.
  const results = await Promise.allSettled([
    batcher.submit({ ...ids, channel: 'room', settings }),
    batcher.submit({ ...ids, channel: 'room', settings }),
    batcher.submit({ ...ids, channel: 'other', settings }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  expect(tasks.activeTask(ids.app_id, 'room')).toBeUndefined();
  const again = await batcher.submit({ ...ids, channel: 'room', settings });
  expect(again.kind).toBe('created');
});

test("a task that stops recording is no longer its channel's active task", async () => {
  const { tasks, batcher } = arrange();
  const { task } = await batcher.submit({ ...ids, channel: 'room', settings });
  expect(tasks.activeTask(ids.app_id, 'room')).toMatchObject({ task_id: task.task_id, project_id: ids.project_id });
  tasks.update(task.task_id, { state: 'finalizing', ended_at: Date.now(), end_reason: 'stopped' });
  expect(tasks.activeTask(ids.app_id, 'room')).toBeUndefined();
  expect((await batcher.submit({ ...ids, channel: 'room', settings })).kind).toBe('created');
});

test('starts still waiting for their commit when new tasks become refused (a shutdown began) are refused, and none is written', async () => {
  const tasks = createTaskStore(openDatabase(':memory:'));
  let refusal: string | undefined;
  const batcher = createTaskBatcher(tasks, sameSettings, () => refusal);
  const waiting = Array.from({ length: 5 }, (_, i) => batcher.submit({ ...ids, channel: `room-${i}`, settings }));
  // The signal arrives between the submissions and their commit.
  refusal = 'The service is shutting down';
  const results = await Promise.allSettled(waiting);
  expect(results.map((r) => (r.status === 'rejected' ? [(r.reason as Error).constructor.name, (r.reason as Error).message] : r.status))).toEqual(
    Array(5).fill(['BatchRefused', 'The service is shutting down']),
  );
  expect(tasks.list()).toHaveLength(0);
});
