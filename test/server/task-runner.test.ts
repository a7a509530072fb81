// The task lifecycle alone, on an in-memory database and a clock the test moves: when a
// recording ends, what timeline it is rendered from, and how uploads end, pause and resume.
// Rendering and uploading are stand-ins here (test/pipeline/ runs the real ones end to end).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { RecordingPlan } from '../../src/recording/plan.js';
import { openDatabase } from '../../src/server/database.js';
import { createProjectStore } from '../../src/server/project-store.js';
import { createSandboxChannels } from '../../src/server/sandbox-channels.js';
import { createTaskRunner, type TaskRunnerDeps } from '../../src/server/task-runner.js';
import { createTaskStore } from '../../src/server/task-store.js';
import { UploadError } from '../../src/storage/upload.js';
import { tempDir } from '../support/temp-dir.js';

const settings = {
  isAudioOnly: 0,
  isVideoOnly: 0,
  is_mixing_enabled: 1,
  mixed_video_audio: 2,
  layout_mode: 0,
  stream_type: 0,
  audioProfile: 0,
  mixResolution: '360,640,15,500',
} as const;
const storage = {
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  bucket: 'recordings',
  access_key_id: 'a',
  secret_access_key: 's',
  prefix: 'pre',
  force_path_style: true,
};
const quiet = { info() {}, warn() {}, error() {} };

/** A runner on a fresh database with one project; render writes one file per call, upload is given. */
function arrange(upload: TaskRunnerDeps['upload'], { clock = { t: 1_000_000 } } = {}) {
  const db = openDatabase(':memory:');
  const now = () => clock.t;
  const tasks = createTaskStore(db, now);
  const projects = createProjectStore(db);
  const channels = createSandboxChannels(db, now);
  projects.put('app', 'proj', { sign_key: 'k', recording_enabled: true, storage });
  const plans: RecordingPlan[] = [];
  const recordingsDir = tempDir('cloudrec-runner-');
  const deps: TaskRunnerDeps = {
    tasks,
    projects,
    channels: channels.source,
    log: quiet,
    recordingsDir,
    idleTimeoutSec: 30,
    now,
    render: async (plan, dir) => {
      plans.push(plan);
      if (plan.spans.length === 0) return [];
      writeFileSync(join(dir, 'mix.mp4'), 'media');
      return [{ name: 'mix.mp4', kind: 'mixed', path: join(dir, 'mix.mp4'), bytes: 5, duration_sec: plan.durationSec }];
    },
    upload,
  };
  const newTask = (channel = 'room') => tasks.create({ app_id: 'app', project_id: 'proj', channel, settings });
  return { db, clock, tasks, channels, plans, deps, recordingsDir, newTask, runner: createTaskRunner(deps) };
}

const uploaded: string[] = [];
const okUpload: TaskRunnerDeps['upload'] = async (_s, key) => {
  uploaded.push(key);
  return { bytes: 5 };
};

describe('the task runner', () => {
  test('ends a recording once its channel has been empty for the idle timeout, files ending with the last user', async () => {
    const { clock, channels, tasks, plans, newTask, runner } = arrange(okUpload);
    channels.join('app', 'room', 7, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    await runner.start();
    clock.t += 4_000;
    channels.leave('app', 'room', 7);
    clock.t += 29_000;
    await new Promise((r) => setTimeout(r, 600));
    expect(tasks.get(task.task_id)!.state).toBe('recording');
    clock.t += 1_000;
    // The next tick (every 500 ms) ends it; waited for rather than timed, for a busy machine.
    while (tasks.get(task.task_id)!.state === 'recording') await new Promise((r) => setTimeout(r, 20));
    await runner.idle();
    const done = tasks.get(task.task_id)!;
    expect(done).toMatchObject({ state: 'completed', end_reason: 'idle_timeout', failure_reason: null, progress: null });
    expect(plans[0]!.durationSec).toBe(4);
    expect(plans[0]!.spans).toEqual([{ publisher: { uid: 7, audio: true, video: true, dual_stream: false }, from: 0, to: 4 }]);
    expect(done.files).toEqual([
      { name: 'mix.mp4', kind: 'mixed', object_key: `pre/proj/room/${task.task_id}/mix.mp4`, bytes: 5, duration_sec: 4, uploaded: true },
    ]);
    await runner.shutdown();
  });

  test('renders only the part of each presence inside the recording, in join order', async () => {
    const { clock, channels, plans, newTask, runner } = arrange(okUpload);
    channels.join('app', 'room', 1, { audio: true, video: false, dual_stream: false });
    clock.t += 10_000; // before the task: not in the files
    const task = newTask();
    clock.t += 2_000;
    channels.join('app', 'room', 2, { audio: true, video: true, dual_stream: true });
    clock.t += 1_000;
    channels.leave('app', 'room', 1);
    clock.t += 2_000;
    await runner.stop(task.task_id);
    await runner.idle();
    expect(plans[0]!.spans.map((s) => [s.publisher.uid, s.from, s.to])).toEqual([
      [1, 0, 3],
      [2, 2, 5],
    ]);
    expect(plans[0]!.durationSec).toBe(5);
  });

  test('fails a task in which nothing was published, naming the channel', async () => {
    const { channels, tasks, newTask, runner } = arrange(okUpload);
    const task = newTask('silent-room');
    channels.join('app', 'other', 1, { audio: true, video: true, dual_stream: false });
    await runner.stop(task.task_id);
    await runner.idle();
    expect(tasks.get(task.task_id)).toMatchObject({ state: 'failed', failure_reason: expect.stringContaining('silent-room') });
  });

  test('fails a task whose bucket refuses the upload, keeping its files on disk', async () => {
    const refused: TaskRunnerDeps['upload'] = async () => {
      throw new UploadError('the store refused the credentials (InvalidAccessKeyId).', true);
    };
    const { clock, channels, tasks, newTask, runner, recordingsDir } = arrange(refused);
    channels.join('app', 'room', 1, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    clock.t += 2_000;
    await runner.stop(task.task_id);
    await runner.idle();
    const failed = tasks.get(task.task_id)!;
    expect(failed.state).toBe('failed');
    expect(failed.failure_reason).toMatch(/mix\.mp4 to bucket recordings failed: the store refused the credentials/);
    expect(failed.files[0]!.uploaded).toBe(false);
    expect(readdirSync(join(recordingsDir, String(task.task_id)))).toEqual(['mix.mp4']);
  });

  test('on shutdown ends recordings as shutdown, and the next start makes and uploads their files', async () => {
    const { db, clock, channels, tasks, newTask, runner, deps, recordingsDir } = arrange(okUpload);
    channels.join('app', 'room', 1, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    await runner.start();
    clock.t += 2_000;
    await runner.shutdown();
    expect(tasks.get(task.task_id)).toMatchObject({ state: 'finalizing', end_reason: 'shutdown' });
    const next = createTaskRunner(deps);
    await next.start();
    await next.idle();
    expect(tasks.get(task.task_id)).toMatchObject({ state: 'completed', end_reason: 'shutdown' });
    expect(existsSync(join(recordingsDir, String(task.task_id)))).toBe(false);
    await next.shutdown();
    db.close();
  });

  test('keeps a task uploading through a shutdown in mid-upload, and the next start uploads only what is left', async () => {
    const keys: string[] = [];
    let blockUntilAbort = true;
    const upload: TaskRunnerDeps['upload'] = (_s, key, _p, options) =>
      new Promise((resolve, reject) => {
        if (!blockUntilAbort) {
          keys.push(key);
          return resolve({ bytes: 5 });
        }
        options?.signal?.addEventListener('abort', () => reject(new UploadError('aborted', false)));
      });
    const { clock, channels, tasks, newTask, runner, deps } = arrange(upload);
    channels.join('app', 'room', 1, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    clock.t += 2_000;
    await runner.stop(task.task_id);
    while (tasks.get(task.task_id)!.state !== 'uploading') await new Promise((r) => setTimeout(r, 10));
    await runner.shutdown();
    expect(tasks.get(task.task_id)!.state).toBe('uploading');
    blockUntilAbort = false;
    const next = createTaskRunner(deps);
    await next.start();
    await next.idle();
    expect(tasks.get(task.task_id)!.state).toBe('completed');
    expect(keys).toEqual([`pre/proj/room/${task.task_id}/mix.mp4`]);
    await next.shutdown();
  });

  test('a task left uploading by a worker whose files are gone is rendered again, and only what was not uploaded is uploaded', async () => {
    const keys: string[] = [];
    const { clock, channels, tasks, newTask, deps, plans } = arrange(async (_s, key) => {
      keys.push(key);
      return { bytes: 5 };
    });
    deps.render = async (plan, dir) => {
      plans.push(plan);
      for (const name of ['mix.mp4', 'uid-7.mp4']) writeFileSync(join(dir, name), 'media');
      return ['mix.mp4', 'uid-7.mp4'].map((name) => ({ name, kind: 'mixed' as const, path: join(dir, name), bytes: 5, duration_sec: plan.durationSec }));
    };
    channels.join('app', 'room', 7, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    clock.t += 3_000;
    // As another worker left it: ended, one of its two files uploaded, then the worker (and its folder) gone.
    const made = (name: string, uploaded: boolean) => ({ name, kind: 'mixed' as const, object_key: `pre/proj/room/${task.task_id}/${name}`, bytes: 4, duration_sec: 3, uploaded });
    tasks.update(task.task_id, { state: 'uploading', ended_at: clock.t, end_reason: 'stopped', files: [made('mix.mp4', true), made('uid-7.mp4', false)] });
    const runner = createTaskRunner(deps);
    await runner.start();
    await runner.idle();
    expect(plans).toHaveLength(1);
    expect(keys).toEqual([`pre/proj/room/${task.task_id}/uid-7.mp4`]);
    const done = tasks.get(task.task_id)!;
    expect(done.state).toBe('completed');
    // The uploaded file is described as it was uploaded; the other as rendered now.
    expect(done.files.map((f) => [f.name, f.bytes, f.uploaded])).toEqual([
      ['mix.mp4', 4, true],
      ['uid-7.mp4', 5, true],
    ]);
    await runner.shutdown();
  });
});

/** A runner of its own on `deps`: a 3 s recording of user 7 in 'room', stopped, its work done as far as it goes. */
async function recordThenStop(
  deps: TaskRunnerDeps,
  clock: { t: number },
  channels: ReturnType<typeof arrange>['channels'],
  newTask: ReturnType<typeof arrange>['newTask'],
) {
  const paused = createTaskRunner(deps);
  channels.join('app', 'room', 7, { audio: true, video: true, dual_stream: false });
  const task = newTask();
  clock.t += 3_000;
  await paused.start();
  await paused.stop(task.task_id);
  await paused.idle();
  return { paused, task };
}

describe('the task runner on a full disk', () => {
  /** Makes every write of the task store fail as SQLite does when its disk is full, while `disk.full`. */
  function fullDisk(tasks: TaskRunnerDeps['tasks'], disk: { full: boolean }) {
    const update = tasks.update.bind(tasks);
    tasks.update = (taskId, changes) => {
      if (disk.full) throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });
      return update(taskId, changes);
    };
  }

  test('a tick that cannot write keeps the server up, and ends the recording once there is room', async () => {
    const errors: string[] = [];
    const { clock, channels, tasks, newTask, runner, deps } = arrange(okUpload);
    const disk = { full: true };
    fullDisk(tasks, disk);
    deps.log = { ...quiet, error: (_f: object, message: string) => void errors.push(message) };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    const watching = createTaskRunner(deps);
    try {
      channels.join('app', 'room', 7, { audio: true, video: true, dual_stream: false });
      const task = newTask();
      clock.t += 2_000;
      channels.leave('app', 'room', 7);
      await watching.start();
      clock.t += 60_000; // past the idle timeout: the tick tries to end it, and cannot write
      while (!errors.includes('checking the recordings failed; trying again')) await new Promise((r) => setTimeout(r, 20));
      expect(tasks.get(task.task_id)!.state).toBe('recording');
      disk.full = false;
      while (tasks.get(task.task_id)!.state === 'recording') await new Promise((r) => setTimeout(r, 20));
      await watching.idle();
      expect(tasks.get(task.task_id)).toMatchObject({ state: 'completed', end_reason: 'idle_timeout' });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      await watching.shutdown();
      await runner.shutdown();
    }
  });

  test('an upload whose result cannot be written is paused, not failed, and completed once there is room', async () => {
    const { clock, channels, tasks, newTask, runner, deps } = arrange(okUpload);
    const disk = { full: false };
    fullDisk(tasks, disk);
    const upload = deps.upload!;
    let uploads = 0;
    deps.upload = async (...args) => {
      if (++uploads === 1) disk.full = true; // the disk fills while the first upload goes up
      return upload(...args);
    };
    const { paused, task } = await recordThenStop(deps, clock, channels, newTask);
    expect(tasks.get(task.task_id)).toMatchObject({ state: 'uploading', failure_reason: null });
    disk.full = false;
    clock.t += 30_000;
    while (tasks.get(task.task_id)!.state !== 'completed') await new Promise((r) => setTimeout(r, 20));
    await paused.shutdown();
    await runner.shutdown();
  });

  test('work that runs out of space is paused, not failed, and taken up again', async () => {
    let full = true;
    const { clock, channels, tasks, newTask, runner, deps } = arrange(okUpload);
    const render = deps.render!;
    deps.render = async (plan, dir, options) => {
      if (full) throw new Error('making mix.mp4 failed: ffmpeg exited with 1: No space left on device');
      return render(plan, dir, options);
    };
    const { paused, task } = await recordThenStop(deps, clock, channels, newTask);
    expect(tasks.get(task.task_id)).toMatchObject({ state: 'finalizing', failure_reason: null });
    full = false;
    clock.t += 30_000; // the next resume sweep takes it up
    while (tasks.get(task.task_id)!.state !== 'completed') await new Promise((r) => setTimeout(r, 20));
    await paused.shutdown();
    await runner.shutdown();
  });

  test("a recording's progress is computed when read, not written on the timer", async () => {
    const { clock, channels, tasks, newTask, runner, db } = arrange(okUpload);
    channels.join('app', 'room', 7, { audio: true, video: true, dual_stream: false });
    const task = newTask();
    await runner.start();
    clock.t += 12_500;
    await new Promise((r) => setTimeout(r, 600)); // a tick or more
    expect(db.prepare('SELECT progress FROM tasks WHERE task_id = ?').get(task.task_id)).toEqual({ progress: null });
    expect(tasks.get(task.task_id)!.progress).toEqual({ step: 'recording', done: 12.5, total: 0 });
    await runner.shutdown();
  });
});

describe('the task runner with many recordings', () => {
  test('the timer looks only at recordings whose channel is empty, not at every recording', async () => {
    const { channels, tasks, newTask, runner, deps } = arrange(okUpload);
    for (let i = 0; i < 1000; i++) {
      channels.join('app', `room-${i}`, 1, { audio: true, video: true, dual_stream: false });
      newTask(`room-${i}`);
    }
    let looks = 0;
    const emptySince = deps.channels.emptySince.bind(deps.channels);
    deps.channels.emptySince = (appId, channel) => {
      looks += 1;
      return emptySince(appId, channel);
    };
    const watching = createTaskRunner(deps);
    await watching.start();
    expect(looks).toBe(1000); // once each, at start
    await new Promise((r) => setTimeout(r, 1_200)); // two ticks or more
    expect(looks).toBe(1000);
    channels.leave('app', 'room-7', 1);
    await new Promise((r) => setImmediate(r));
    expect(looks).toBe(1001); // that channel alone
    expect(tasks.list('recording')).toHaveLength(1000);
    await watching.shutdown();
    await runner.shutdown();
  });
});

describe('rendering', () => {
  test.each([1, 2, 4])('tasks that end together render side by side, %i at a time', async (slots) => {
    const { clock, channels, newTask, deps } = arrange(okUpload);
    let running = 0;
    let most = 0;
    const render = deps.render!;
    deps.render = async (plan, dir, options) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 100));
      running -= 1;
      return render(plan, dir, options);
    };
    deps.renderConcurrency = slots;
    const runner = createTaskRunner(deps);
    const tasks = [0, 1, 2, 3].map((i) => {
      channels.join('app', `room-${i}`, 1, { audio: true, video: true, dual_stream: false });
      return newTask(`room-${i}`);
    });
    clock.t += 2_000;
    await runner.start();
    for (const task of tasks) await runner.stop(task.task_id);
    await runner.idle();
    expect(most).toBe(slots);
    expect(await deps.tasks.list('completed')).toHaveLength(4);
    await runner.shutdown();
  });
});
