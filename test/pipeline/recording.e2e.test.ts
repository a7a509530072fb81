// End to end: the reference server (a real process) records sandbox users for each parameter
// combination that changes the output, makes the files with ffmpeg, uploads them to a real
// S3-compatible server (s3rver, its own process); the objects are downloaded and checked with
// ffprobe. Recordings are ~2 s on small canvases to keep the suite fast.
import { writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SchemaTask as Task } from '../../generated/sandbox-types.js';
import type { StartRecordingRequest } from '../../src/index.js';
import { sandboxValidator } from '../../src/spec/sandbox-document.js';
import { ffprobe, moovBeforeMdat, type Probe } from '../support/ffprobe.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { tempDir } from '../support/temp-dir.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';

let storage: StorageServer;
let server: ReferenceServer;
const project = { app_id: 'e2e-app', project_id: 'e2e-proj', sign_key: 'e2e-key' };
const downloads = tempDir('cloudrec-e2e-');
// The recorded length is set by wall-clock sleeps and process scheduling on a busy 2-core
// machine: files are compared with the task's own duration, within this many seconds.
const durationTolerance = 0.6;

beforeAll(async () => {
  storage = await startStorageServer();
  server = await startReferenceServer({ CLOUDREC_IDLE_TIMEOUT_SEC: '3', CLOUDREC_RATE_LIMIT_PER_SEC: '1000' });
  await arrangeProject(server.baseUrl, project, { ...storage.settings(), prefix: 'e2e' });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
  await storage?.remove();
});

interface User {
  uid: number;
  audio?: boolean;
  video?: boolean;
  dual_stream?: boolean;
}

const join_ = (channel: string, user: User) =>
  sandbox(server.baseUrl, 'PUT', `/sandbox/apps/${project.app_id}/channels/${encodeURIComponent(channel)}/users/${user.uid}`, {
    audio: user.audio ?? true,
    video: user.video ?? true,
    dual_stream: user.dual_stream ?? false,
  });
const leave = (channel: string, uid: number) =>
  sandbox(server.baseUrl, 'DELETE', `/sandbox/apps/${project.app_id}/channels/${encodeURIComponent(channel)}/users/${uid}`);

async function getTask(taskId: number): Promise<Task> {
  const response = await fetch(`${server.baseUrl}/sandbox/tasks/${taskId}`);
  expect(await responseProblems('GET', '/sandbox/tasks/{task_id}', response, sandboxValidator)).toEqual([]);
  return (await response.json()) as Task;
}

/** Polls the task until it is completed or failed. */
async function settled(taskId: number, timeoutMs = 90_000): Promise<Task> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const task = await getTask(taskId);
    if (task.state === 'completed' || task.state === 'failed') return task;
    if (Date.now() > until) throw new Error(`task ${taskId} still ${task.state} after ${timeoutMs} ms: ${JSON.stringify(task)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const startIn = (channel: string, fields: Partial<StartRecordingRequest> = {}) => startTask(server.baseUrl, { ...project, channel, ...fields });

/** Records `users` in a new channel for about `seconds`, stops, waits for the upload; returns the task and each file's probe. */
async function record(channel: string, users: User[], fields: Partial<StartRecordingRequest>, seconds = 2) {
  for (const user of users) await join_(channel, user);
  const taskId = await startIn(channel, fields);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  const task = await settled(taskId);
  expect(task.state, task.failure_reason ?? '').toBe('completed');
  const probes: Record<string, Probe> = {};
  for (const file of task.files) {
    expect(file.uploaded).toBe(true);
    expect(file.object_key).toBe(`e2e/${project.project_id}/${encodeURIComponent(channel)}/${taskId}/${file.name}`);
    const bytes = await storage.download(file.object_key);
    expect(bytes.length).toBe(file.bytes);
    const path = join(downloads, `${taskId}-${file.name}`);
    writeFileSync(path, bytes);
    probes[file.name] = await ffprobe(path);
  }
  const recorded = (Date.parse(task.ended_at!) - Date.parse(task.created_at)) / 1000;
  return { task, probes, recorded };
}

const audioOf = (p: Probe) => p.streams.filter((s) => s.codec_type === 'audio');
const videoOf = (p: Probe) => p.streams.filter((s) => s.codec_type === 'video');

describe('a recording, end to end', () => {
  test('individual mode: per user an audio file at 48 kHz and a video file of the chosen stream', async () => {
    const { task, probes, recorded } = await record(
      'individual room',
      [{ uid: 11, dual_stream: true }, { uid: 12 }, { uid: 13, video: false }],
      { is_mixing_enabled: 0, stream_type: 1 },
    );
    expect(Object.keys(probes).sort()).toEqual(
      ['uid-11-audio.m4a', 'uid-11-video.mp4', 'uid-12-audio.m4a', 'uid-12-video.mp4', 'uid-13-audio.m4a'].sort(),
    );
    for (const name of ['uid-11-audio.m4a', 'uid-12-audio.m4a', 'uid-13-audio.m4a']) {
      const p = probes[name]!;
      expect(videoOf(p)).toHaveLength(0);
      expect(audioOf(p)).toMatchObject([{ codec_name: 'aac', sample_rate: '48000' }]);
      expect(Math.abs(p.duration - recorded)).toBeLessThan(durationTolerance);
    }
    // uid 11 publishes two streams: stream_type 1 records the small one; uid 12 has only the large one.
    const small = videoOf(probes['uid-11-video.mp4']!)[0]!;
    const large = videoOf(probes['uid-12-video.mp4']!)[0]!;
    expect(small.width! * small.height!).toBeLessThan(large.width! * large.height!);
    expect(audioOf(probes['uid-11-video.mp4']!)).toHaveLength(0);
    expect(task.files.find((f) => f.name === 'uid-11-video.mp4')).toMatchObject({ kind: 'video', uid: 11 });
  });

  test('individual mode, stream_type 0: the dual-stream user is recorded in its large stream', async () => {
    const { probes } = await record('high stream', [{ uid: 21, dual_stream: true }, { uid: 22 }], { is_mixing_enabled: 0, stream_type: 0, isVideoOnly: 1 });
    expect(Object.keys(probes).sort()).toEqual(['uid-21-video.mp4', 'uid-22-video.mp4']);
    const [a, b] = [videoOf(probes['uid-21-video.mp4']!)[0]!, videoOf(probes['uid-22-video.mp4']!)[0]!];
    expect([a.width, a.height]).toEqual([b.width, b.height]);
  });

  test('composite, mixed_video_audio 0: one mixed audio and one mixed video file, at mixResolution and audioProfile', async () => {
    const { probes, recorded } = await record('composite', [{ uid: 31 }, { uid: 32 }], {
      is_mixing_enabled: 1,
      mixed_video_audio: 0,
      mixResolution: '320,180,15,300',
      audioProfile: 1,
    });
    expect(Object.keys(probes).sort()).toEqual(['mix-audio.m4a', 'mix-video.mp4']);
    expect(audioOf(probes['mix-audio.m4a']!)).toMatchObject([{ codec_name: 'aac', sample_rate: '48000', channels: 1 }]);
    expect(videoOf(probes['mix-video.mp4']!)).toMatchObject([{ codec_name: 'h264', width: 320, height: 180, r_frame_rate: '15/1' }]);
    expect(Math.abs(probes['mix-video.mp4']!.duration - recorded)).toBeLessThan(durationTolerance);
  });

  test('composite, mixed_video_audio 2: one widely playable MP4 (H.264 Main + AAC-LC, moov first)', async () => {
    const { probes } = await record('mixed two', [{ uid: 41 }, { uid: 42, audio: false }], {
      is_mixing_enabled: 1,
      mixed_video_audio: 2,
      mixResolution: '240,320,15,300',
      audioProfile: 2,
      layout_mode: 1,
    });
    expect(Object.keys(probes)).toEqual(['mix.mp4']);
    const p = probes['mix.mp4']!;
    expect(videoOf(p)).toMatchObject([{ codec_name: 'h264', profile: 'Main', pix_fmt: 'yuv420p', width: 240, height: 320 }]);
    expect(audioOf(p)).toMatchObject([{ codec_name: 'aac', profile: 'LC', sample_rate: '48000', channels: 2 }]);
    expect(moovBeforeMdat(p.path)).toBe(true);
    expect(p.fragmented).toBe(false);
  });

  test('composite, mixed_video_audio 1: one fragmented MP4 with both media', async () => {
    const { probes } = await record('mixed one', [{ uid: 51 }], { is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '320,180,15,300', layout_mode: 2 });
    expect(Object.keys(probes)).toEqual(['mix.mp4']);
    const p = probes['mix.mp4']!;
    expect(videoOf(p)).toHaveLength(1);
    expect(audioOf(p)).toHaveLength(1);
    expect(p.fragmented).toBe(true);
  });

  test('composite, audio only: one mixed audio file and no video, mixed_video_audio ignored', async () => {
    const { probes } = await record('audio only', [{ uid: 61 }, { uid: 62 }], { is_mixing_enabled: 1, isAudioOnly: 1, mixed_video_audio: 2, audioProfile: 2 });
    expect(Object.keys(probes)).toEqual(['mix-audio.m4a']);
    expect(audioOf(probes['mix-audio.m4a']!)).toMatchObject([{ codec_name: 'aac', sample_rate: '48000', channels: 2 }]);
    expect(videoOf(probes['mix-audio.m4a']!)).toHaveLength(0);
  });

  test('a recording ends by itself once its channel has been empty for the idle timeout', async () => {
    await join_('idle room', { uid: 71 });
    const taskId = await startIn('idle room', { is_mixing_enabled: 1, isAudioOnly: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    await leave('idle room', 71);
    const task = await settled(taskId, 30_000);
    expect(task).toMatchObject({ state: 'completed', end_reason: 'idle_timeout' });
    const ended = Date.parse(task.ended_at!);
    const created = Date.parse(task.created_at);
    // Ended 3 s (the idle timeout) after the user left, checked every half second; the file ends when the user left.
    expect((ended - created) / 1000).toBeGreaterThan(1.5 + 3 - 0.1);
    expect(task.files[0]!.duration_sec).toBeLessThan(1.5 + durationTolerance);
  });
});

describe('a recording whose upload fails', () => {
  test('ends failed with a reason naming the bucket, when the bucket does not exist', async () => {
    const ids = { app_id: project.app_id, project_id: 'no-bucket', sign_key: 'k2' };
    await arrangeProject(server.baseUrl, ids, { ...storage.settings('missing-bucket') });
    await join_('no bucket room', { uid: 81 });
    const taskId = await startTask(server.baseUrl, { ...ids, channel: 'no bucket room', isAudioOnly: 1 });
    await new Promise((r) => setTimeout(r, 1000));
    await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
    const task = await settled(taskId);
    expect(task.state).toBe('failed');
    expect(task.failure_reason).toMatch(/bucket missing-bucket failed: the bucket does not exist \(NoSuchBucket/);
    expect(task.failure_reason).toContain(`recordings/${taskId}`);
    expect(task.files.map((f) => f.uploaded)).toEqual([false]);
  });
});
