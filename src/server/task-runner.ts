// The life of a task after it is accepted: recording → finalizing (files made from the channel's
// timeline) → uploading (to the project's bucket) → completed, or failed with a reason. Every
// step is written to the task store first, so a restart picks each task up where it was.
import { setTimeout as delay } from 'node:timers/promises';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { MadeFile, RecordingPlan } from '../recording/plan.js';
import { renderRecording } from '../recording/render.js';
import { objectKey } from '../storage/object-key.js';
import type { uploadWithRetry } from '../storage/upload.js';
import { UploadError } from '../storage/upload-error.js';
import type { ChannelSource } from './channel-source.js';
import { resolveMediaFile } from './media-folder.js';
import { isOutOfSpace } from './storage-errors.js';
import type { RunnerMetrics } from './metrics.js';
import type { Project } from './project-store.js';
import type { Task, TaskChanges, TaskState } from './task-store.js';

type EndReason = NonNullable<Task['end_reason']>;
type TaskFile = Task['files'][number];

/** The few logger calls the runner makes (pino's shape). */
export interface RunnerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

type MaybePromise<T> = T | Promise<T>;

/** What the runner reads and writes of the tasks: the embedded store answers at once, PostgreSQL's with a promise. */
export interface RunnerTasks {
  get(taskId: number): MaybePromise<Task | undefined>;
  activeFor(appId: string, channel: string): MaybePromise<Task | undefined>;
  list(state?: TaskState): MaybePromise<Task[]>;
  /** Applies `changes`; with `onlyFrom`, only while the task is in that state (undefined otherwise: another process changed it first). */
  update(taskId: number, changes: TaskChanges, onlyFrom?: TaskState): MaybePromise<Task | undefined>;
  /** Tells of each task whose state another process changed (a stop through another node); a store of this process alone has none. */
  watch?(listener: (taskId: number, state: TaskState) => void): void;
}

/**
 * Hands the making and uploading of a task's files to whichever worker takes it (a fleet's
 * PostgreSQL job queue). Without one, the runner carries every task itself.
 */
export interface WorkQueue {
  /** Asks for the task to be carried to its end; handing a task that is handed already changes nothing. */
  hand(taskId: number): Promise<void>;
  /**
   * Starts taking handed tasks, `concurrency` at once. `carry` resolves once the task is done with;
   * when it rejects, the task is handed back for another try. `signal` aborts when the queue took
   * the task back from this worker (its heartbeat was missed).
   */
  take(carry: (taskId: number, signal: AbortSignal) => Promise<void>, concurrency: number): Promise<void>;
  /** Takes no more, and waits for what is held to settle. */
  stopTaking(): Promise<void>;
}

export interface TaskRunnerDeps {
  tasks: RunnerTasks;
  projects: { get(appId: string, projectId: string): Readonly<Project> | undefined };
  channels: ChannelSource;
  log: RunnerLog;
  /** Where files wait until their upload is confirmed, one folder per task. */
  recordingsDir: string;
  /** The folder media_file names are resolved in (checked again at render time). */
  mediaDir?: string;
  idleTimeoutSec: number;
  now?: () => number;
  /** Replaceable for tests of the lifecycle alone; the real ones by default. */
  render?: typeof renderRecording;
  upload?: typeof uploadWithRetry;
  /** Renders at once; by default one a core (an ffmpeg run takes about one core). */
  renderConcurrency?: number;
  /** A fleet's queue; without it this runner carries every task it ends or finds unfinished. */
  queue?: WorkQueue;
  /** Told of renders, uploads and ends, for GET /metrics. */
  metrics?: RunnerMetrics;
}

/** How often recording tasks are checked for an empty channel. */
const tickMs = 500;
/** After the upload's own retries are spent on a transient failure, the task waits this long and tries again. */
const uploadPauseMs = 30_000;
/** Progress goes to the log at most this often per task; the task store always has the latest. */
const progressLogMs = 5_000;
/**
 * Progress is written at most this often per task (a new step at once): ffmpeg reports a few times
 * a second, and a fleet's database carries every worker's renders.
 */
const progressWriteMs = 1_000;
/** How often tasks left finalizing or uploading (paused by a full disk, say) are taken up again. */
const resumeEveryMs = 30_000;

class Aborted extends Error {
  constructor() {
    super('handed back: the worker stopped working on it');
  }
}

export function createTaskRunner(deps: TaskRunnerDeps) {
  const now = deps.now ?? Date.now;
  const render = deps.render ?? renderRecording;
  // The S3 client (a quarter of a second to load) is loaded with the first upload, not at start-up.
  const upload: typeof uploadWithRetry = deps.upload ?? (async (...args) => (await import('../storage/upload.js')).uploadWithRetry(...args));
  // Aborted by a pause or a shutdown; a new one for each start.
  let stopping = new AbortController();
  /** Whether this runner watches the recordings now (started, not paused). */
  let running = false;
  let watching = false;
  /** Tasks being finalized or uploaded now, so each is worked on once. */
  const working = new Map<number, Promise<void>>();
  // Tasks that end together render side by side, one a core, the rest waiting for a free slot.
  const renderSlots = Math.max(1, deps.renderConcurrency ?? availableParallelism());
  let rendersRunning = 0;
  const waitingForSlot: (() => void)[] = [];
  async function inRenderSlot<T>(work: () => Promise<T>): Promise<T> {
    if (rendersRunning < renderSlots) rendersRunning += 1;
    else await new Promise<void>((resolve) => waitingForSlot.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = waitingForSlot.shift();
      if (next) next();
      else rendersRunning -= 1;
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const lastProgressLog = new Map<number, number>();
  const lastProgressWrite = new Map<number, { at: number; step: string }>();

  const folder = (taskId: number) => join(deps.recordingsDir, String(taskId));

  /** Records progress; best effort, so a full disk or a database away for a moment never ends the work it reports on. */
  function setProgress(taskId: number, step: string, done: number, total: number) {
    const t = now();
    const last = lastProgressWrite.get(taskId);
    if (last?.step === step && t - last.at < progressWriteMs) return;
    lastProgressWrite.set(taskId, { at: t, step });
    Promise.resolve()
      .then(() => deps.tasks.update(taskId, { progress: { step, done, total } }))
      .catch((error: unknown) => {
        if (!isOutOfSpace(error)) deps.log.warn({ task_id: taskId, reason: (error as Error).message }, 'progress not recorded');
      });
    if (t - (lastProgressLog.get(taskId) ?? 0) >= progressLogMs) {
      lastProgressLog.set(taskId, t);
      deps.log.info({ task_id: taskId, step, done: Math.round(done * 10) / 10, total: Math.round(total * 10) / 10 }, 'task progress');
    }
  }

  async function fail(taskId: number, reason: string) {
    await deps.tasks.update(taskId, { state: 'failed', failure_reason: reason, progress: null });
    deps.metrics?.ended('failed');
    deps.log.warn({ task_id: taskId, state: 'failed', reason }, 'task failed');
  }

  /** Ends a task's recording now and starts making its files. */
  async function end(taskId: number, reason: EndReason): Promise<Task> {
    const task = (await deps.tasks.get(taskId))!;
    if (task.state !== 'recording') return task;
    // Only from recording: in a fleet another worker (or a stop through an API node) may end it first.
    const ended = await deps.tasks.update(taskId, { state: 'finalizing', ended_at: now(), end_reason: reason, progress: null }, 'recording');
    if (!ended) return (await deps.tasks.get(taskId))!;
    deps.log.info({ task_id: taskId, state: 'finalizing', end_reason: reason }, 'recording ended');
    if (reason !== 'shutdown') work(taskId);
    return ended;
  }

  /** The recording's timeline: who was in the channel when, in seconds from the task's start. */
  async function planFor(task: Task): Promise<RecordingPlan> {
    const from = Date.parse(task.created_at);
    const to = Date.parse(task.ended_at!);
    const spans = (await deps.channels.presences(task.app_id, task.channel, from, to))
      .map((p) => ({
        publisher: {
          uid: p.member.uid,
          audio: p.member.audio,
          video: p.member.video,
          dual_stream: p.member.dualStream,
          ...(p.member.mediaFile ? { media_file: resolveMediaFile(deps.mediaDir ?? '', p.member.mediaFile) } : {}),
        },
        from: Math.max(0, (p.from - from) / 1000),
        to: (Math.min(p.to ?? to, to) - from) / 1000,
      }))
      .filter((s) => s.to > s.from);
    // Nothing is published once the channel is empty: the files end with its last user, not
    // with the idle timeout after it.
    const lastPresence = Math.max(0, ...spans.map((s) => s.to));
    return { settings: task.settings, durationSec: lastPresence, spans };
  }

  /**
   * Makes the task's files. A task found uploading whose files are not in this worker's folder (made
   * by a worker that died) is rendered again, and the files uploaded already are kept as they were.
   */
  async function finalize(task: Task, signal: AbortSignal) {
    const dir = folder(task.task_id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const plan = await planFor(task);
    const made = await inRenderSlot(async (): Promise<MadeFile[]> => {
      if (signal.aborted) throw new Aborted();
      const started = performance.now();
      const files = await render(plan, dir, { signal, onProgress: (p) => setProgress(task.task_id, p.step, p.done, p.total) });
      deps.metrics?.rendered((performance.now() - started) / 1000, plan.durationSec);
      return files;
    });
    if (made.length === 0) {
      await fail(task.task_id, `Nothing was published in channel ${task.channel} while it was recorded (no audio or video to record).`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const project = deps.projects.get(task.app_id, task.project_id);
    const prefix = project?.storage?.prefix ?? '';
    const uploaded = new Map(task.files.filter((f) => f.uploaded).map((f) => [f.name, f]));
    const files: TaskFile[] = made.map((f): TaskFile => uploaded.get(f.name) ?? {
      name: f.name,
      kind: f.kind,
      ...(f.uid !== undefined ? { uid: f.uid } : {}),
      object_key: objectKey({ prefix, projectId: task.project_id, channel: task.channel, taskId: task.task_id, fileName: f.name }),
      bytes: f.bytes,
      duration_sec: f.duration_sec,
      uploaded: false,
    });
    await deps.tasks.update(task.task_id, { state: 'uploading', files, progress: null });
    deps.log.info({ task_id: task.task_id, state: 'uploading', files: files.map((f) => `${f.name} (${f.bytes} bytes, ${f.duration_sec} s)`) }, 'files made');
  }

  /** Whether a file of the task that is still to be uploaded is missing from this worker's folder. */
  const madeElsewhere = (task: Task) => task.files.some((f) => !f.uploaded && !existsSync(join(folder(task.task_id), f.name)));

  async function uploadAll(task: Task, signal: AbortSignal) {
    const project = deps.projects.get(task.app_id, task.project_id);
    if (!project?.storage) {
      await fail(task.task_id, `Project ${task.project_id} has no storage settings any more; the files are kept in ${folder(task.task_id)}.`);
      return;
    }
    const storage = project.storage;
    const files = [...task.files];
    for (const [i, file] of files.entries()) {
      if (file.uploaded) continue;
      const path = join(folder(task.task_id), file.name);
      try {
        await upload(storage, file.object_key, path, {
          signal,
          onProgress: ({ bytesDone, bytesTotal }) => setProgress(task.task_id, `uploading ${file.name}`, bytesDone, bytesTotal),
          onRetry: (attempt, error, delayMs) => {
            deps.metrics?.uploadFailed('retried');
            deps.log.warn({ task_id: task.task_id, file: file.name, attempt, delay_ms: delayMs, reason: error.message }, 'upload retry');
          },
          onLeftover: (uploadId, error) =>
            deps.log.warn(
              { task_id: task.task_id, file: file.name, upload_id: uploadId, reason: error instanceof Error ? error.message : String(error) },
              'the store refused to abort a multipart upload (tried 3 times): its parts stay in the bucket until the store drops them, or a later upload of this file aborts it where the store can list multipart uploads (the embedded s3rver cannot)',
            ),
        });
      } catch (error) {
        if (signal.aborted) throw new Aborted();
        if (error instanceof UploadError && error.permanent) {
          deps.metrics?.uploadFailed('permanent');
          await fail(task.task_id, `Uploading ${file.name} to bucket ${storage.bucket} failed: ${error.message} The files are kept in ${folder(task.task_id)}.`);
          return;
        }
        // Transient and still failing: keep the task uploading and try again later, never drop it.
        const reason = error instanceof Error ? error.message : String(error);
        deps.metrics?.uploadFailed('retried');
        deps.log.warn({ task_id: task.task_id, file: file.name, retry_in_ms: uploadPauseMs, reason }, 'upload paused');
        setProgress(task.task_id, `waiting to retry the upload of ${file.name}`, 0, 0);
        await pause(uploadPauseMs, signal);
        return uploadAll((await deps.tasks.get(task.task_id))!, signal);
      }
      files[i] = { ...file, uploaded: true };
      deps.metrics?.uploaded(file.bytes);
      await deps.tasks.update(task.task_id, { files });
      rmSync(path, { force: true });
    }
    await deps.tasks.update(task.task_id, { state: 'completed', progress: null });
    deps.metrics?.ended('completed');
    rmSync(folder(task.task_id), { recursive: true, force: true });
    deps.log.info({ task_id: task.task_id, state: 'completed', objects: files.map((f) => f.object_key) }, 'task completed');
  }

  // Node's timer takes its listener off the shutdown signal when it fires (a store down for hours
  // would otherwise add one a pause).
  const pause = (ms: number, signal: AbortSignal) =>
    delay(ms, undefined, { signal }).catch(() => {
      throw new Aborted();
    });

  /**
   * Carries a task from wherever it is (finalizing or uploading) to its end. Rejects with Aborted
   * when it was stopped on the way (a shutdown, or the queue took it back): left as it is in the
   * store, for whoever takes it next.
   */
  async function carry(taskId: number, signal: AbortSignal): Promise<void> {
    try {
      if (signal.aborted) throw new Aborted();
      let task = await deps.tasks.get(taskId);
      if (!task) return;
      if (task.state === 'finalizing' || (task.state === 'uploading' && madeElsewhere(task))) {
        await finalize(task, signal);
        task = (await deps.tasks.get(taskId))!;
      }
      if (task.state === 'uploading') await uploadAll(task, signal);
    } catch (error) {
      if (error instanceof Aborted || signal.aborted) {
        deps.log.info({ task_id: taskId }, 'task paused: handed back for the next worker or start');
        throw error instanceof Aborted ? error : new Aborted();
      }
      const reason = error instanceof Error ? error.message : String(error);
      if (isOutOfSpace(error)) {
        // Nothing is lost: the task stays where it was and is taken up again once there is room.
        deps.log.error({ task_id: taskId, retry_in_ms: resumeEveryMs, reason }, 'task paused: the disk is full');
        return;
      }
      try {
        await fail(taskId, `Making the files failed: ${reason}`);
      } catch (failing) {
        deps.log.error({ task_id: taskId, reason, err: failing }, 'task could not be marked failed; it will be tried again');
      }
    } finally {
      lastProgressLog.delete(taskId);
      lastProgressWrite.delete(taskId);
    }
  }

  /** Carries a task in this process, once at a time, tracked so a pause or shutdown can wait for it. */
  function carryHere(taskId: number, signal: AbortSignal): Promise<void> {
    const held = working.get(taskId);
    if (held) return held;
    const run = carry(taskId, signal).finally(() => working.delete(taskId));
    working.set(taskId, run);
    return run;
  }

  /** Sees to it that a task is carried to its end: by this runner, or by whichever worker the queue gives it to. */
  function work(taskId: number) {
    if (stopping.signal.aborted) return;
    if (deps.queue) {
      deps.queue.hand(taskId).catch((error: unknown) => {
        // Handed again within resumeEveryMs, by this worker or another.
        deps.log.warn({ task_id: taskId, reason: (error as Error).message }, 'could not hand the task to the queue; trying again later');
      });
      return;
    }
    carryHere(taskId, stopping.signal).catch(() => {}); // a paused task waits for the next start
  }

  /**
   * Recording tasks whose channel is empty now, with when it became empty. Kept up to date from
   * the channel source's join and leave events, so the timer looks at these alone: its cost does
   * not grow with the number of recordings. (A source that cannot be watched is looked at whole.)
   */
  const emptyChannels = new Map<number, number>();
  async function channelChanged(appId: string, channel: string) {
    try {
      const task = await deps.tasks.activeFor(appId, channel);
      if (!task) return;
      const since = await deps.channels.emptySince(appId, channel);
      if (since === undefined) emptyChannels.delete(task.task_id);
      else emptyChannels.set(task.task_id, Math.max(since, Date.parse(task.created_at)));
    } catch (error) {
      // Looked at again on the next sweep (below); a join or leave is never refused for it.
      deps.log.error({ err: error, app_id: appId, channel }, 'could not look at a channel after a join or leave');
      sweepDue = true;
    }
  }
  /** Every recording's channel, looked at once: at start, and after a failure or a source that cannot be watched. */
  let sweepDue = true;
  async function sweep() {
    emptyChannels.clear();
    sweepDue = !deps.channels.watch;
    for (const task of await deps.tasks.list('recording')) await channelChanged(task.app_id, task.channel);
  }

  /** Tasks left finalizing or uploading, oldest first. */
  const unfinished = async () => [...(await deps.tasks.list('finalizing')), ...(await deps.tasks.list('uploading'))].reverse();

  /**
   * Ends recordings whose channel has been empty for the idle timeout (a recording's progress is
   * computed when it is read, so nothing is written for the others), and every `resumeEveryMs`
   * takes up tasks left finalizing or uploading. Runs on a timer: it never throws.
   */
  let lastResume = now();
  /** The tick running now, if any: one at a time, however slow the database. */
  let ticking: Promise<void> | undefined;
  async function tickOnce() {
    const t = now();
    try {
      if (sweepDue) await sweep();
      for (const [taskId, since] of emptyChannels) {
        if (t - since < deps.idleTimeoutSec * 1000) continue;
        await end(taskId, 'idle_timeout');
        emptyChannels.delete(taskId);
      }
      if (t - lastResume >= resumeEveryMs) {
        lastResume = t;
        for (const task of await unfinished()) work(task.task_id);
      }
    } catch (error) {
      // A full disk or a failing database: the next tick looks at every recording again.
      sweepDue = true;
      deps.log.error({ err: error, out_of_space: isOutOfSpace(error) }, 'checking the recordings failed; trying again');
    }
  }
  const tick = () => {
    ticking ??= tickOnce().finally(() => (ticking = undefined));
    return ticking;
  };

  return {
    /** Resumes tasks a previous run left finalizing or uploading, and starts watching recordings. */
    async start() {
      if (stopping.signal.aborted) stopping = new AbortController();
      running = true;
      sweepDue = true;
      if (deps.queue) {
        // As many jobs at once as render slots: a worker takes no more than it can render.
        await deps.queue.take((taskId, lost) => carryHere(taskId, AbortSignal.any([stopping.signal, lost])), renderSlots);
      }
      for (const task of await unfinished()) {
        deps.log.info({ task_id: task.task_id, state: task.state }, 'resuming task');
        work(task.task_id);
      }
      if (!watching) {
        watching = true;
        deps.channels.watch?.((appId, channel) => {
          if (running) void channelChanged(appId, channel);
        });
        // A recording ended elsewhere (stopped through another node) has its files made here.
        deps.tasks.watch?.((taskId, state) => {
          if (state === 'finalizing') work(taskId);
        });
      }
      timer = setInterval(() => void tick(), tickMs);
      await tick();
    },
    /**
     * Stops working without ending anything: timers stop, work in progress is aborted and left
     * where it is in the store, for whoever starts next (this runner again, or another node's).
     */
    async pause() {
      running = false;
      clearInterval(timer);
      await ticking;
      stopping.abort();
      await Promise.all([Promise.allSettled(working.values()), deps.queue?.stopTaking()]);
    },
    /** Ends a task's recording now (a stop call). */
    stop: (taskId: number): Promise<Task> => end(taskId, 'stopped'),
    /**
     * Ends every recording (end reason `shutdown`), stops work in progress and waits for it. A
     * runner that is not working (paused, or never started) ends nothing: another may be.
     */
    async shutdown() {
      clearInterval(timer);
      await ticking;
      if (running) for (const task of await deps.tasks.list('recording')) await end(task.task_id, 'shutdown');
      running = false;
      stopping.abort();
      await Promise.all([Promise.allSettled(working.values()), deps.queue?.stopTaking()]);
    },
    /** Renders this runner makes at once. */
    renderSlots,
    /** Tasks this runner carries now: waiting for a render slot, and the others (rendering or uploading). */
    load: () => ({ waiting: waitingForSlot.length, running: working.size - waitingForSlot.length }),
    /** Resolves once no task is being worked on (for tests). */
    idle: async () => {
      while (working.size) await Promise.allSettled(working.values());
    },
  };
}

export type TaskRunner = ReturnType<typeof createTaskRunner>;
