// Sandbox users who publish a media file, end to end: a real file of the media folder is recorded;
// a file ffmpeg cannot read fails the task in our words, not ffprobe's; a file swapped for a
// symlink out of the folder after the join is refused at render time; and no URL is fetched.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';
import { tempDir } from '../support/temp-dir.js';

const project = { app_id: 'media-app', project_id: 'media-proj', sign_key: 'media-key' };
const mediaDir = join(tempDir('cloudrec-mediadir-'), 'media');
let storage: StorageServer;
let server: ReferenceServer;
let web: TestHttpServer;

beforeAll(async () => {
  mkdirSync(mediaDir, { recursive: true });
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=500:duration=2', '-c:v', 'libx264', '-c:a', 'aac', '-shortest', join(mediaDir, 'talk.mp4')]);
  writeFileSync(join(mediaDir, 'notes.mp4'), 'These are notes, not a video.');
  writeFileSync(join(mediaDir, 'swapped.mp4'), 'placeholder');
  web = await startHttpServer((_req, res) => res.writeHead(200).end('media'));
  storage = await startStorageServer();
  server = await startReferenceServer({ CLOUDREC_MEDIA_DIR: mediaDir, CLOUDREC_RATE_LIMIT_PER_SEC: '1000' });
  await arrangeProject(server.baseUrl, project, storage.settings());
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
  await storage?.remove();
  await web?.close();
  rmSync(mediaDir, { recursive: true, force: true });
});

async function recordWith(channel: string, media_file: string, beforeStop?: () => void) {
  await sandbox(server.baseUrl, 'PUT', `/sandbox/apps/${project.app_id}/channels/${channel}/users/7`, { media_file });
  const taskId = await startTask(server.baseUrl, { ...project, channel, is_mixing_enabled: 1 });
  await new Promise((r) => setTimeout(r, 1_500));
  beforeStop?.();
  await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  for (;;) {
    const task = (await sandbox(server.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as { state: string; failure_reason: string | null };
    if (task.state === 'completed' || task.state === 'failed') return task;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a media file of the folder is recorded', async () => {
  expect(await recordWith('talk-room', 'talk.mp4')).toMatchObject({ state: 'completed' });
});

test("a file ffmpeg cannot read fails the task in the service's words, not ffprobe's", async () => {
  const task = await recordWith('notes-room', 'notes.mp4');
  expect(task.state).toBe('failed');
  expect(task.failure_reason).toContain('the media file notes.mp4 is not audio or video that ffmpeg can read');
  expect(task.failure_reason).not.toMatch(/Invalid data|ffprobe|moov atom/);
});

test('a file swapped for a symlink out of the folder after the join is refused when the files are made', async () => {
  const task = await recordWith('swap-room', 'swapped.mp4', () => {
    rmSync(join(mediaDir, 'swapped.mp4'));
    symlinkSync('/etc/passwd', join(mediaDir, 'swapped.mp4'));
  });
  expect(task.state).toBe('failed');
  expect(task.failure_reason).toMatch(/media_file: "swapped.mp4" leads out of the media folder/);
  expect(task.failure_reason).not.toContain('root:');
});

test('a URL is not a name of the media folder, and nothing is fetched', async () => {
  const join_ = await fetch(`${server.baseUrl}/sandbox/apps/${project.app_id}/channels/url-room/users/8`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ media_file: `${web.url}/clip.mp4` }),
  });
  expect(join_.status).toBe(400);
  expect(web.requests).toEqual([]);
});
