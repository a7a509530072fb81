// The same renders through one worker and through two, in one run: a throwaway PostgreSQL, the
// embedded S3-compatible store, an API node, and workers of one render slot each (the compiled
// server, as the package runs it). Each worker is pinned to a core of its own (taskset), as if it
// were a machine of one core: unpinned, one ffmpeg already spreads over both cores of this machine,
// and a second worker would only share them. Each round records `count` channels of two users for
// `mediaSeconds` at 1280×720, stops them together through the API node, and times the stop to the
// last task completed (rendered, uploaded, in the bucket). The render seconds per media second come
// from the workers' own /metrics.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStorage, embeddedBucket, embeddedCredentials } from '../../src/server/embedded-storage.js';
import { freePort, startThrowawayPostgres } from '../postgres.js';
import { launch, type Server } from './http-bench.js';

const root = join(import.meta.dirname, '../..');

export interface WorkersRound {
  workers: number;
  /** Seconds from the stop to the last task completed. */
  seconds: number;
  /** Render seconds per media second, from the workers' metrics. */
  renderPerMediaSecond: number;
}

export interface WorkersResult {
  count: number;
  mediaSeconds: number;
  rounds: WorkersRound[];
  /** How many times faster two workers finished than one. */
  speedup: number;
}

async function call(base: string, method: string, path: string, body?: object) {
  const answer = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body && { body: JSON.stringify(body) }) });
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
  return answer.json() as Promise<Record<string, unknown>>;
}

const sample = (text: string, name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1) ?? 0);

export async function workersBench({ count = 4, mediaSeconds = 10 } = {}): Promise<WorkersResult> {
  const database = await startThrowawayPostgres();
  const folder = mkdtempSync(join(tmpdir(), 'cloudrec-bench-workers-'));
  const storage = await startEmbeddedStorage('127.0.0.1', await freePort(), join(folder, 's3'));
  const env = { CLOUDREC_DATABASE_URL: database.url, CLOUDREC_SECRET_KEY: randomBytes(32).toString('base64'), CLOUDREC_LOG_LEVEL: 'silent', CLOUDREC_DEMO: 'off' };
  const nodes: Server[] = [];
  const node = async (role: 'api' | 'worker', name: string, core?: number) => {
    const [command, args] = core === undefined ? ['node', [] as string[]] : ['taskset', ['-c', String(core), 'node']];
    const server = await launch(command, [...args, join(root, 'dist/src/server/main.js')], role === 'api' ? /reference server on http:\/\/127\.0\.0\.1:(\d+)/ : /health and metrics on http:\/\/127\.0\.0\.1:(\d+)/, {
      ...env,
      CLOUDREC_ROLE: role,
      CLOUDREC_PORT: String(await freePort()),
      CLOUDREC_DATA_DIR: join(folder, name),
      CLOUDREC_RENDER_SLOTS: '1',
    });
    nodes.push(server);
    return server;
  };
  try {
    const api = await node('api', 'api');
    const rounds: WorkersRound[] = [];
    for (const workerCount of [1, 2]) {
      const workers = await Promise.all(Array.from({ length: workerCount }, (_, i) => node('worker', `worker-${workerCount}-${i}`, i % availableParallelism())));
      const app = `workers-${workerCount}`;
      await call(api.url, 'PUT', `/sandbox/projects/${app}/p`, {
        sign_key: 'k',
        storage: { endpoint: storage.endpoint, bucket: embeddedBucket, access_key_id: embeddedCredentials.accessKeyId, secret_access_key: embeddedCredentials.secretAccessKey, force_path_style: true },
      });
      const taskIds: number[] = [];
      for (let i = 0; i < count; i++) {
        for (const uid of [1, 2]) await call(api.url, 'PUT', `/sandbox/apps/${app}/channels/room-${i}/users/${uid}`, {});
        const started = await call(api.url, 'POST', '/v1/cloudRecord', { app_id: app, project_id: 'p', sign_key: 'k', channel: `room-${i}`, is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '1280,720,30,2000' });
        taskIds.push(started.task_id as number);
      }
      console.log(`  ${workerCount} worker${workerCount > 1 ? 's' : ''}: recording ${count} channels for ${mediaSeconds} s`);
      await new Promise((resolve) => setTimeout(resolve, mediaSeconds * 1000));
      const stopped = performance.now();
      for (const taskId of taskIds) await call(api.url, 'POST', `/sandbox/tasks/${taskId}/stop`);
      for (const taskId of taskIds) {
        for (;;) {
          const task = await call(api.url, 'GET', `/sandbox/tasks/${taskId}`);
          if (task.state === 'completed') break;
          if (task.state === 'failed') throw new Error(`task ${taskId} failed: ${String(task.failure_reason)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const seconds = (performance.now() - stopped) / 1000;
      let render = 0;
      let media = 0;
      for (const worker of workers) {
        const text = await (await fetch(`${worker.url}/metrics`)).text();
        render += sample(text, 'cloudrec_render_seconds_total');
        media += sample(text, 'cloudrec_rendered_media_seconds_total');
      }
      rounds.push({ workers: workerCount, seconds, renderPerMediaSecond: render / media });
      console.log(`  ${workerCount} worker${workerCount > 1 ? 's' : ''} of one core and one render slot: the last of ${count} tasks completed ${seconds.toFixed(2)} s after the stop; ${(render / media).toFixed(2)} render s per media s`);
      for (const worker of workers) worker.stop();
    }
    return { count, mediaSeconds, rounds, speedup: rounds[0]!.seconds / rounds[1]!.seconds };
  } finally {
    for (const server of nodes) server.stop();
    await storage.close();
    await database.remove();
    rmSync(folder, { recursive: true, force: true });
  }
}
