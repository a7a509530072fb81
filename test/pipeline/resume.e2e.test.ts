// Nothing accepted is lost: a recording whose store is down waits, uploading, through a crash of
// the server; after a restart (and the store back) its files are uploaded from the local copies.
import { afterAll, expect, test } from 'vitest';
import type { SchemaTask as Task } from '../../generated/sandbox-types.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';

let storage: StorageServer | undefined;
const servers: ReferenceServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  servers[0]?.remove();
  await storage?.remove();
});

const task = async (baseUrl: string, taskId: number) => (await sandbox(baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as Task;

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a task waiting to upload survives a crash and completes after the restart', async () => {
  storage = await startStorageServer();
  const first = await startReferenceServer();
  servers.push(first);
  const ids = { app_id: 'resume-app', project_id: 'resume-proj', sign_key: 'resume-key', channel: 'resume-room', uids: [5] };
  await arrangeProject(first.baseUrl, ids, storage.settings());
  await storage.stop();

  const taskId = await startTask(first.baseUrl, { ...ids, uids: undefined, isAudioOnly: 1 });
  await new Promise((r) => setTimeout(r, 1000));
  await sandbox(first.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  await until(async () => (await task(first.baseUrl, taskId)).state === 'uploading', 'the task to be uploading');
  // It retries against the store that is down, and stays uploading.
  await new Promise((r) => setTimeout(r, 1500));
  expect((await task(first.baseUrl, taskId)).state).toBe('uploading');
  expect(first.process.output()).toMatch(/upload retry/);
  await first.stop('SIGKILL');

  await storage.restart();
  const second = await startReferenceServer({}, first.dataDir);
  servers.push(second);
  await until(async () => (await task(second.baseUrl, taskId)).state === 'completed', 'the task to complete after the restart');
  const done = await task(second.baseUrl, taskId);
  expect(done.files).toHaveLength(1);
  expect((await storage.download(done.files[0]!.object_key)).length).toBe(done.files[0]!.bytes);
  expect(second.process.output()).toMatch(/resuming task/);
}, 120_000);

test('a shutdown ends recordings as shutdown, and the next start makes and uploads their files', async () => {
  storage ??= await startStorageServer();
  const first = await startReferenceServer();
  servers.push(first);
  const ids = { app_id: 'shutdown-app', project_id: 'shutdown-proj', sign_key: 'shutdown-key', channel: 'shutdown-room', uids: [6] };
  await arrangeProject(first.baseUrl, ids, storage.settings());
  const taskId = await startTask(first.baseUrl, { ...ids, uids: undefined, isVideoOnly: 1 });
  await new Promise((r) => setTimeout(r, 1500));
  await first.stop('SIGTERM');

  const second = await startReferenceServer({}, first.dataDir);
  servers.push(second);
  await until(async () => (await task(second.baseUrl, taskId)).state === 'completed', 'the task to complete after the restart');
  expect(await task(second.baseUrl, taskId)).toMatchObject({ end_reason: 'shutdown', failure_reason: null });
}, 120_000);
