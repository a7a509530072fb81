// The fleet on a real PostgreSQL server under faults: an API node killed under a load of starts
// (every acknowledged task is in the database), PostgreSQL restarted under load (only 200s and 503s
// with Retry-After meanwhile, 200s after, nothing acknowledged lost), and the worker killed in the
// middle of a render (the queue gives its job to the other, which renders again and uploads each
// object once, whole).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/postgres.js';
import { arrangeProject, postStart, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';

let database: ThrowawayPostgres;
let storage: StorageServer;
const nodes: ReferenceServer[] = [];
let fleet: Record<string, string>;

beforeAll(async () => {
  [database, storage] = await Promise.all([startThrowawayPostgres(), startStorageServer()]);
  fleet = {
    CLOUDREC_DATABASE_URL: database.url,
    CLOUDREC_SECRET_KEY: randomBytes(32).toString('base64'),
    CLOUDREC_LOG_LEVEL: 'warn',
    CLOUDREC_RATE_LIMIT_PER_SEC: '100000',
  };
}, 60_000);
afterAll(async () => {
  for (const node of nodes) {
    await node.stop();
    node.remove();
  }
  await storage?.remove();
  await database?.remove();
});

const node = async (role: 'api' | 'all' | 'worker', env: Record<string, string> = {}) => {
  const started = await startReferenceServer({ ...fleet, ...env, CLOUDREC_ROLE: role }, undefined, {
    compiled: true,
    ...(role === 'worker' && { ready: /cloudrec worker \d+: taking recordings/ }),
  });
  nodes.push(started);
  return started;
};

/** Whether an ffmpeg run is a child of the process `pid`: the worker renders now. */
function renders(pid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …: the command may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat)!;
      if (comm === 'ffmpeg' && Number(rest!.split(' ')[1]) === pid) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** The task ids the database holds. */
async function storedTasks(): Promise<Set<number>> {
  const client = new pg.Client(database.url);
  await client.connect();
  try {
    const { rows } = await client.query<{ task_id: string }>('SELECT task_id FROM tasks');
    return new Set(rows.map((row) => Number(row.task_id)));
  } finally {
    await client.end();
  }
}

/**
 * `clients` at once, each taking the next channel and sending its start until it is a 200, as a
 * client should: a 503 is retried after its Retry-After, no answer after a second (its node may be
 * gone). Stops when `running()` is false or the channels are used up.
 */
function load(bases: () => string[], ids: object, channels: string[], running: () => boolean, clients = 32) {
  const acknowledged: number[] = [];
  const statuses = new Map<string, number>();
  const wrong: string[] = [];
  const count = (status: string) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  let next = 0;
  const done = Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (running() && next < channels.length) {
        const channel = channels[next++]!;
        for (let tries = 0; running() && tries < 30; tries++) {
          const base = bases()[(c + tries) % bases().length]!;
          let wait = 1;
          try {
            const answer = await postStart(base, { ...ids, channel });
            const body = (await answer.json()) as { task_id?: number; code: string };
            count(String(answer.status));
            if (answer.status === 200) {
              acknowledged.push(body.task_id!);
              break;
            }
            const retryAfter = answer.headers.get('retry-after') ?? '';
            if (answer.status !== 503 || !/^\d+$/.test(retryAfter)) {
              wrong.push(`${answer.status} ${JSON.stringify(body)}`);
              break;
            }
            wait = Number(retryAfter);
          } catch {
            count('no answer');
          }
          await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        }
      }
    }),
  );
  return { acknowledged, statuses, wrong, done };
}

/** Channels with a user in each, made through `base`. */
async function channelsWithUsers(base: string, appId: string, count: number, prefix: string) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const name of names) await sandbox(base, 'PUT', `/sandbox/apps/${appId}/channels/${name}/users/1`, {});
  return names;
}

test('an API node killed (SIGKILL) under a load of new tasks: every acknowledged task is in the database', async () => {
  const [a, b] = [await node('api'), await node('api')];
  const ids = { app_id: 'kill-app', project_id: 'p', sign_key: 'k' };
  await arrangeProject(a.baseUrl, ids, storage.settings());
  const channels = await channelsWithUsers(a.baseUrl, ids.app_id, 1500, 'kill');
  // The other node hears of each join by NOTIFY (within a second): wait for the last one.
  while (((await (await fetch(`${b.baseUrl}/sandbox/apps/${ids.app_id}/channels/${channels.at(-1)}`)).json()) as { members: unknown[] }).members.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let killed = false;
  const run = load(() => (killed ? [b.baseUrl] : [a.baseUrl, b.baseUrl]), ids, channels, () => true);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await a.stop('SIGKILL');
  killed = true;
  await run.done;
  const stored = await storedTasks();
  console.log(`answers: ${JSON.stringify(Object.fromEntries(run.statuses))}; ${run.acknowledged.length} acknowledged, ${stored.size} stored`);
  expect(run.acknowledged.length).toBeGreaterThan(500);
  expect(run.acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  expect(run.wrong).toEqual([]);
}, 180_000);

test('PostgreSQL restarted under load: only 200s and 503s with Retry-After meanwhile, 200s after, nothing acknowledged lost', async () => {
  const api = await node('api');
  const ids = { app_id: 'restart-app', project_id: 'p', sign_key: 'k' };
  await arrangeProject(api.baseUrl, ids, storage.settings());
  const channels = await channelsWithUsers(api.baseUrl, ids.app_id, 1500, 'restart');
  let running = true;
  const run = load(() => [api.baseUrl], ids, channels, () => running, 16);
  await new Promise((resolve) => setTimeout(resolve, 800));
  await database.stop();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await database.start();
  const restarted = run.acknowledged.length;
  // After the restart the node is back by itself: starts are 200 again.
  const back = performance.now();
  while (run.acknowledged.length === restarted) {
    expect(performance.now() - back).toBeLessThan(15_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  running = false;
  await run.done;
  const stored = await storedTasks();
  console.log(`answers: ${JSON.stringify(Object.fromEntries(run.statuses))}; ${run.acknowledged.length} acknowledged, back ${Math.round(performance.now() - back)} ms after the restart`);
  expect(run.wrong).toEqual([]);
  expect(run.statuses.get('503')).toBeGreaterThan(0);
  expect(run.statuses.get('no answer') ?? 0).toBe(0);
  expect(run.statuses.get('500') ?? 0).toBe(0);
  expect(run.acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  // The operator is told, in the log, and no password is in it.
  expect(api.process.output()).toMatch(/"where":"[^"]+","reason":"[^"]+","msg":"database connection lost"/);
}, 180_000);

test('a worker killed in the middle of a render: the other takes its job within 60 s, renders again and uploads each object once, whole', async () => {
  // Storage behind a counting proxy: every PUT (or multipart part) of an object is counted.
  const writes = new Map<string, number>();
  const proxy = createServer((req, res) => {
    const key = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    if (req.method === 'PUT' || req.method === 'POST') writes.set(key, (writes.get(key) ?? 0) + 1);
    const upstream = httpRequest(`${storage.endpoint}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const proxied = { ...storage.settings(), endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
    const workers = [await node('worker'), await node('worker')];
    const api = await node('api');
    const ids = { app_id: 'render-app', project_id: 'p', sign_key: 'k', channel: 'room' };
    await arrangeProject(api.baseUrl, { ...ids, uids: [1, 2, 3] }, proxied);
    const settings = { is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '1280,720,30,2000' };
    const answer = await postStart(api.baseUrl, { ...ids, ...settings });
    const { task_id: taskId } = (await answer.json()) as { task_id: number };
    await new Promise((resolve) => setTimeout(resolve, 12_000)); // 12 s of media: a render of seconds
    await sandbox(api.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
    // Killed once the render has begun (a progress step other than recording): the worker running ffmpeg.
    let holder: ReferenceServer | undefined;
    for (;;) {
      const task = (await sandbox(api.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as { state: string; progress: { step: string } | null };
      expect(task.state).toBe('finalizing');
      holder = workers.find((w) => renders(w.process.child.pid!));
      if (holder && task.progress && task.progress.step !== 'recording') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await holder.stop('SIGKILL');
    const killed = performance.now();
    let task: { state: string; files: { object_key: string; bytes: number }[] } | undefined;
    while (task?.state !== 'completed') {
      expect(performance.now() - killed, `task ${taskId}: ${task?.state}`).toBeLessThan(60_000);
      await new Promise((resolve) => setTimeout(resolve, 250));
      task = (await sandbox(api.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as typeof task;
    }
    // The holder is dead and an API node does not record: the other worker completed it.
    console.log(`the other worker completed task ${taskId} ${Math.round(performance.now() - killed)} ms after the kill; writes per object: ${JSON.stringify(Object.fromEntries(writes))}`);
    for (const file of task.files) {
      expect((await storage.download(file.object_key)).length).toBe(file.bytes);
      expect(writes.get(`/${storage.settings().bucket}/${file.object_key}`), file.object_key).toBe(1);
    }
  } finally {
    proxy.close();
  }
}, 180_000);

test('two workers render at the same time, and one stopped with SIGTERM mid-render hands its job back to the other', async () => {
  for (const earlier of nodes.splice(0)) {
    await earlier.stop();
    earlier.remove();
  }
  // One render slot each, so the two renders can only run side by side on two workers.
  const workers = [await node('worker', { CLOUDREC_RENDER_SLOTS: '1', CLOUDREC_LOG_LEVEL: 'info' }), await node('worker', { CLOUDREC_RENDER_SLOTS: '1', CLOUDREC_LOG_LEVEL: 'info' })];
  const api = await node('api');
  const ids = { app_id: 'pair-app', project_id: 'p', sign_key: 'k' };
  const settings = { is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '1280,720,30,2000' };
  const taskIds: number[] = [];
  for (const channel of ['left', 'right']) {
    await arrangeProject(api.baseUrl, { ...ids, channel, uids: [1, 2] }, storage.settings());
    taskIds.push(((await (await postStart(api.baseUrl, { ...ids, channel, ...settings })).json()) as { task_id: number }).task_id);
  }
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  for (const taskId of taskIds) await sandbox(api.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  const ended = performance.now();
  while (!workers.every((w) => renders(w.process.child.pid!))) {
    expect(performance.now() - ended, 'both workers rendering at once').toBeLessThan(30_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const [leaving, staying] = workers as [ReferenceServer, ReferenceServer];
  await leaving.stop('SIGTERM');
  expect(leaving.process.output()).toMatch(/handed back for the next worker or start/);
  const stopped = performance.now();
  for (const taskId of taskIds) {
    let task: { state: string; files: { object_key: string; bytes: number }[] } | undefined;
    while (task?.state !== 'completed') {
      expect(task?.state, `task ${taskId}`).not.toBe('failed');
      expect(performance.now() - stopped, `task ${taskId}: ${task?.state}`).toBeLessThan(60_000);
      await new Promise((resolve) => setTimeout(resolve, 250));
      task = (await sandbox(api.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as typeof task;
    }
    for (const file of task.files) expect((await storage.download(file.object_key)).length).toBe(file.bytes);
  }
  console.log(`both tasks completed ${Math.round(performance.now() - stopped)} ms after one worker's SIGTERM`);
  expect(staying.process.output()).toMatch(/task completed/);
}, 180_000);
