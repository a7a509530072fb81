// Recordings that end together: `count` channels of one user each, recorded for `mediaSeconds` with
// the default settings and stopped at once, finalized by the task runner with its real renders;
// once one render at a time and once one a core (the runner's default). Measured: wall seconds from
// the stop to the last task completed. The upload is a stand-in (storage is not what is measured).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/server/database.js';
import { createProjectStore } from '../../src/server/project-store.js';
import { createSandboxChannels } from '../../src/server/sandbox-channels.js';
import { recordingSettings } from '../../src/server/start-recording.js';
import { createTaskRunner } from '../../src/server/task-runner.js';
import { createTaskStore } from '../../src/server/task-store.js';

export interface EndedTogetherResult {
  count: number;
  mediaSeconds: number;
  /** Render slots of the runner's default: the machine's cores. */
  slots: number;
  /** Seconds from the stop to the last task completed, one render at a time and one a core. */
  oneAtATimeSec: number;
  sideBySideSec: number;
  speedup: number;
}

const quiet = { info() {}, warn() {}, error() {} };
const storage = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'b', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true };

async function stopTogether(count: number, mediaSeconds: number, slots: number): Promise<number> {
  const clock = { t: Date.now() };
  const now = () => clock.t;
  const db = openDatabase(':memory:');
  const tasks = createTaskStore(db, now);
  const projects = createProjectStore(db);
  const channels = createSandboxChannels(db, now);
  projects.put('app', 'proj', { sign_key: 'k', recording_enabled: true, storage });
  const recordingsDir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-ended-'));
  const runner = createTaskRunner({
    tasks,
    projects,
    channels: channels.source,
    log: quiet,
    recordingsDir,
    idleTimeoutSec: 3600,
    now,
    upload: async () => ({ bytes: 0 }),
    renderConcurrency: slots,
  });
  try {
    const ids = { app_id: 'app', project_id: 'proj' };
    const created = Array.from({ length: count }, (_, i) => {
      channels.join('app', `room-${i}`, 1, { audio: true, video: true, dual_stream: false });
      return tasks.create({ ...ids, channel: `room-${i}`, settings: recordingSettings({ ...ids, sign_key: 'k', channel: `room-${i}` }) });
    });
    // The recordings' timeline moves on by their length; the renders run on the wall clock.
    clock.t += mediaSeconds * 1000;
    await runner.start();
    const started = performance.now();
    for (const task of created) await runner.stop(task.task_id);
    await runner.idle();
    const seconds = (performance.now() - started) / 1000;
    const failed = created.map((t) => tasks.get(t.task_id)!).filter((t) => t.state !== 'completed');
    if (failed.length) throw new Error(`tasks did not complete: ${failed.map((t) => `${t.task_id} ${t.state} ${t.failure_reason ?? ''}`).join('; ')}`);
    return seconds;
  } finally {
    await runner.shutdown();
    db.close();
    rmSync(recordingsDir, { recursive: true, force: true });
  }
}

export async function endedTogetherBench(mediaSeconds: number, count = 4): Promise<EndedTogetherResult> {
  const slots = availableParallelism();
  const oneAtATimeSec = await stopTogether(count, mediaSeconds, 1);
  console.log(`  ${count} recordings of ${mediaSeconds} s stopped together, one render at a time: the last done ${oneAtATimeSec.toFixed(2)} s after the stop`);
  const sideBySideSec = await stopTogether(count, mediaSeconds, slots);
  console.log(`  the same, ${slots} renders side by side (one a core): the last done ${sideBySideSec.toFixed(2)} s after the stop`);
  return { count, mediaSeconds, slots, oneAtATimeSec, sideBySideSec, speedup: oneAtATimeSec / sideBySideSec };
}
