// The data folder on a 24 MB tmpfs that is then filled: the server stays up, a start it cannot
// store gets 503 service_unavailable with Retry-After, the task whose files could not be made is
// kept, and once there is room again it is made and uploaded.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { arrangeProject, postStart, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'cloudrec-full-disk-'));
const ids = { app_id: 'full-app', project_id: 'full-proj', sign_key: 'full-key', channel: 'full-room' };
let server: ReferenceServer;
let storage: StorageServer;

/** Fills the file system at `dir` to the last byte. */
function fillUp(dir: string) {
  const filler = join(dir, 'filler');
  mkdirSync(filler, { recursive: true });
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(filler, 'big')}`, 'bs=1M'], { stdio: 'ignore' });
  } catch {
    // ENOSPC: full, as wanted
  }
  // The last blocks, one small file at a time.
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(filler, `small-${i}`), 'x'.repeat(512));
    } catch {
      break;
    }
  }
  return () => rmSync(filler, { recursive: true, force: true });
}

beforeAll(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
  storage = await startStorageServer();
  server = await startReferenceServer({ CLOUDREC_LOG_LEVEL: 'warn', CLOUDREC_IDLE_TIMEOUT_SEC: '3' }, join(mountPoint, 'data'));
  await arrangeProject(server.baseUrl, { ...ids, uids: [1001] }, storage.settings());
  await sandbox(server.baseUrl, 'PUT', `/sandbox/apps/${ids.app_id}/channels/second-room/users/5`, {});
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await storage?.remove();
  try {
    execFileSync('umount', [mountPoint]);
  } catch {
    // not mounted
  }
  rmSync(mountPoint, { recursive: true, force: true });
});

const taskOf = async (taskId: number) =>
  (await sandbox(server.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as { state: string; failure_reason: string | null; files: { object_key: string; uploaded: boolean }[] };

test('a full data disk: the server stays up, answers 503, keeps the task and finishes it once there is room', async () => {
  const taskId = await startTask(server.baseUrl, ids);
  await new Promise((r) => setTimeout(r, 2_000));
  // The channel empties: after the 3 s idle timeout the tick must end the recording, on a full disk.
  await sandbox(server.baseUrl, 'DELETE', `/sandbox/apps/${ids.app_id}/channels/${ids.channel}/users/1001`);
  const room = fillUp(mountPoint);
  console.log(`filled the data disk with task ${taskId} recording and its channel empty`);
  await new Promise((r) => setTimeout(r, 6_000));
  expect(server.process.child.exitCode).toBeNull();
  const tickFailures = server.process.output().split('checking the recordings failed').length - 1;
  const during = await taskOf(taskId);
  console.log(`6 s later: the server is up (${tickFailures} ticks could not write), task ${taskId} is ${during.state}`);
  expect(during).toMatchObject({ state: 'recording', failure_reason: null });
  expect(tickFailures).toBeGreaterThan(0);

  const refused = await postStart(server.baseUrl, { ...ids, channel: 'second-room' });
  const body = (await refused.json()) as { code: string; message: string };
  console.log(`a new start while full: ${refused.status} ${body.code} (${body.message}), Retry-After ${refused.headers.get('retry-after')}`);
  expect(refused.status).toBe(503);
  expect(body.code).toBe('service_unavailable');
  expect(refused.headers.get('retry-after')).toBe('30');

  room();
  console.log('freed the disk');
  let task = during;
  for (const started = Date.now(); Date.now() - started < 60_000; await new Promise((r) => setTimeout(r, 500))) {
    task = await taskOf(taskId);
    if (task.state === 'completed' || task.state === 'failed') break;
  }
  console.log(`task ${taskId} then: ${task.state}, ${task.files.filter((f) => f.uploaded).length} files uploaded`);
  expect(task.state).toBe('completed');
  for (const file of task.files) expect((await storage.download(file.object_key)).length).toBeGreaterThan(0);
  expect(server.process.child.exitCode).toBeNull();
}, 120_000);
