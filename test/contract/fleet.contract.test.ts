// A fleet on a real PostgreSQL server (a throwaway cluster started here): one node that answers
// and records, one that only answers, and a worker, sharing the database. The API's promises hold across them:
// the conformance checks pass through the API node for a project made on the other, an identical
// repeat sent to the other node gets the same task, starts racing over both make one task, a
// sign_key changed on one is refused by the other, and a recording stopped through the API node
// is made and uploaded by a worker that takes it from the queue, also when the other is killed;
// `cloudrec conformance` exits 0 through the API node, and 500 generated requests over two API
// nodes are each answered in the spec, never a 5xx.
import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { responseProblems } from '../../src/conformance/exchange-check.js';
import { operationsValidator } from '../../src/spec/operations-document.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/postgres.js';
import { runConformance } from '../../src/conformance/index.js';
import { validBody } from '../../src/conformance/request-arbitraries.js';
import { arrangeProject, postStart, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { projectRoot } from '../support/prism.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';
import { tempDir } from '../support/temp-dir.js';
import { startHttpServer } from '../support/http-server.js';
import { verifyWebhook } from '../../src/webhooks.js';

let database: ThrowawayPostgres;
let storage: StorageServer;
let recorder: ReferenceServer;
let api: ReferenceServer;
let worker: ReferenceServer;
/** What every node of the fleet is started with. */
let fleet: Record<string, string>;

beforeAll(async () => {
  [database, storage] = await Promise.all([startThrowawayPostgres(), startStorageServer()]);
  // The loopback proxy is trusted, so a test can speak for an address of its own (X-Forwarded-For).
  fleet = { CLOUDREC_DATABASE_URL: database.url, CLOUDREC_SECRET_KEY: randomBytes(32).toString('base64'), CLOUDREC_LOG_LEVEL: 'warn', CLOUDREC_TRUST_PROXY: '127.0.0.1' };
  recorder = await startReferenceServer({ ...fleet, CLOUDREC_ROLE: 'all' });
  api = await startReferenceServer({ ...fleet, CLOUDREC_ROLE: 'api' });
  worker = await startReferenceServer({ ...fleet, CLOUDREC_ROLE: 'worker' }, undefined, { ready: /cloudrec worker \d+: taking recordings/ });
}, 120_000);
afterAll(async () => {
  for (const node of [api, recorder, worker]) {
    await node?.stop();
    node?.remove();
  }
  await storage?.remove();
  await database?.remove();
});

/**
 * Arranges a project (and users in its channel) through `node`, then waits until every node of the
 * fleet knows them: a change reaches the other nodes by NOTIFY, within the bound the README states
 * (one second), not at once.
 */
async function arrangeOnFleet(
  node: ReferenceServer,
  ids: Parameters<typeof arrangeProject>[1],
  settings: Parameters<typeof arrangeProject>[2],
  nodes: ReferenceServer[] = [api, recorder],
) {
  await arrangeProject(node.baseUrl, ids, settings);
  const started = performance.now();
  for (const other of nodes) {
    for (;;) {
      const project = await fetch(`${other.baseUrl}/sandbox/projects/${encodeURIComponent(ids.app_id)}/${encodeURIComponent(ids.project_id)}`);
      const channel = ids.uids?.length
        ? ((await (await fetch(`${other.baseUrl}/sandbox/apps/${encodeURIComponent(ids.app_id)}/channels/${encodeURIComponent(ids.channel!)}`)).json()) as { members: unknown[] }).members.length
        : 0;
      if (project.status === 200 && channel === (ids.uids?.length ?? 0)) break;
      expect(performance.now() - started, 'known to every node within a second').toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

test('the conformance checks pass through the API node, for projects and channels made through the other node', async () => {
  const ready = { app_id: 'fleet-app', project_id: 'ready', sign_key: 'key-ready', channel: 'room 1' };
  const fixtures = {
    recordingOff: { app_id: 'fleet-app', project_id: 'off', sign_key: 'key-off' },
    noStorage: { app_id: 'fleet-app', project_id: 'bare', sign_key: 'key-bare' },
    emptyChannel: 'nobody here',
  };
  await arrangeOnFleet(recorder, { ...ready, uids: [1001] }, storage.settings());
  await arrangeOnFleet(recorder, fixtures.recordingOff, storage.settings());
  await sandbox(recorder.baseUrl, 'PATCH', '/sandbox/projects/fleet-app/off', { recording_enabled: false });
  await arrangeOnFleet(recorder, fixtures.noStorage, null);
  const report = await runConformance({ baseUrl: api.baseUrl, credentials: ready, fixtures, seed: 20261203, runs: 30 });
  expect(report.results.filter((r) => r.outcome !== 'passed')).toEqual([]);
}, 120_000);

test('an identical repeat sent to the other node gets the same task; other settings get 409 from either', async () => {
  const ids = { app_id: 'repeat-app', project_id: 'p', sign_key: 'k', channel: 'room' };
  await arrangeOnFleet(api, { ...ids, uids: [7] }, storage.settings());
  const taskId = await startTask(recorder.baseUrl, ids);
  expect(await startTask(api.baseUrl, ids)).toBe(taskId);
  for (const node of [api, recorder]) {
    const conflict = await postStart(node.baseUrl, { ...ids, is_mixing_enabled: 1 });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ code: 'channel_already_recording' });
  }
});

test('fifty identical starts racing over both nodes make one task', async () => {
  const ids = { app_id: 'race-app', project_id: 'p', sign_key: 'k', channel: 'room' };
  await arrangeOnFleet(api, { ...ids, uids: [7] }, storage.settings());
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => postStart((i % 2 ? api : recorder).baseUrl, ids)));
  // Sent before any task existed, they are not repeats yet: past the app's rate limit some are 429.
  const taskIds = new Set<number>();
  for (const answer of answers) {
    const body = (await answer.json()) as { code: string; task_id?: number };
    if (answer.status === 429) expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    else taskIds.add(body.task_id!);
    expect([200, 429]).toContain(answer.status);
  }
  expect(taskIds.size).toBe(1);
  const tasks = (await sandbox(api.baseUrl, 'GET', '/sandbox/tasks')) as { tasks: { app_id: string }[] };
  expect(tasks.tasks.filter((t) => t.app_id === 'race-app')).toHaveLength(1);
});

test('a sign_key changed through one node is refused by the other within a second', async () => {
  const ids = { app_id: 'key-app', project_id: 'p', sign_key: 'old-key', channel: 'room' };
  await arrangeOnFleet(recorder, { ...ids, uids: [7] }, storage.settings());
  await startTask(api.baseUrl, ids);
  await sandbox(recorder.baseUrl, 'PATCH', '/sandbox/projects/key-app/p', { sign_key: 'new-key' });
  const changed = performance.now();
  let status = 200;
  while (status !== 401) {
    status = (await postStart(api.baseUrl, ids)).status;
    expect(performance.now() - changed).toBeLessThan(1000);
  }
  expect((await postStart(api.baseUrl, { ...ids, sign_key: 'new-key' })).status).toBe(200);
});

test("the app's rate limit is the fleet's: two nodes together give it its 10 a second, within 10 %", async () => {
  const ids = { app_id: 'rate-app', project_id: 'p', sign_key: 'k' };
  await arrangeOnFleet(api, ids, storage.settings());
  // 40 a second for 3 s, alternating nodes, each to an empty channel (409: counted, never a task).
  const statuses: number[] = [];
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 120; i++) {
    const at = started + i * 25;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
    sends.push(postStart((i % 2 ? api : recorder).baseUrl, { ...ids, channel: `empty-${i}` }).then((r) => void statuses.push(r.status)));
  }
  await Promise.all(sends);
  const seconds = (performance.now() - started) / 1000;
  const admitted = statuses.filter((s) => s === 409).length;
  expect(statuses.filter((s) => s !== 409 && s !== 429)).toEqual([]);
  // A full bucket of 10, then 10 a second: per-node limits would admit about twice as many.
  const expected = 10 + 10 * seconds;
  expect(admitted).toBeGreaterThanOrEqual(expected * 0.9);
  expect(admitted).toBeLessThanOrEqual(expected * 1.1);
}, 30_000);

test('failed authentications are counted for the fleet: past the limit on either node, an address is refused on both', async () => {
  await arrangeOnFleet(recorder, { app_id: 'guard-app', project_id: 'p', sign_key: 'right', channel: 'room', uids: [7] }, storage.settings());
  const from = (node: ReferenceServer, body: object) =>
    fetch(`${node.baseUrl}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' }, body: JSON.stringify(body) });
  const statuses: number[] = [];
  // 30 a minute (the default): 15 wrong keys on each node, then one more.
  for (let i = 0; i < 31; i++) statuses.push((await from(i % 2 ? api : recorder, { app_id: 'guard-app', project_id: 'p', sign_key: `wrong-${i}`, channel: 'room' })).status);
  expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
  expect(statuses[30]).toBe(429);
  // The right key from that address is not even checked now, on either node.
  for (const node of [api, recorder]) {
    const answer = await from(node, { app_id: 'guard-app', project_id: 'p', sign_key: 'right', channel: 'room' });
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
  }
});

test("a recording stopped through the API node is made and uploaded by a worker that takes it from the queue; its events reach the project's webhook once each", async () => {
  const ids = { app_id: 'stop-app', project_id: 'p', sign_key: 'k', channel: 'room' };
  await arrangeOnFleet(api, { ...ids, uids: [7] }, storage.settings());
  const receiver = await startHttpServer((_req, res) => res.writeHead(204).end());
  const { secret } = (await sandbox(api.baseUrl, 'PUT', '/sandbox/projects/stop-app/p/webhook', { url: receiver.url })) as { secret: string };
  for (const node of [recorder, api]) {
    while (((await sandbox(node.baseUrl, 'GET', '/sandbox/projects/stop-app/p')) as { webhook: unknown }).webhook === null) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const taskId = await startTask(api.baseUrl, { ...ids, is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '320,240,15,300' });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await sandbox(api.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  let task: { state: string; files: { object_key: string; bytes: number }[] } | undefined;
  for (let i = 0; i < 120 && task?.state !== 'completed'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    task = (await sandbox(api.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as typeof task;
    expect(task!.state).not.toBe('failed');
  }
  expect(task!.state).toBe('completed');
  const [file] = task!.files;
  expect((await storage.download(file!.object_key)).length).toBe(file!.bytes);
  // recording.started written by the API node, recording.completed by the worker; sent by whichever recording node claimed each.
  for (let i = 0; i < 100 && receiver.requests.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await receiver.close();
  const events = [];
  for (const request of receiver.requests) {
    const verified = await verifyWebhook(request.body, request.headers, secret);
    expect(verified.ok).toBe(true);
    if (verified.ok) events.push(verified.event);
  }
  expect(events.map((e) => [e.type, e.task_id])).toEqual([['recording.started', taskId], ['recording.completed', taskId]]);
  const completed = events[1]!;
  expect(completed.type === 'recording.completed' && completed.data.files.map((f) => [f.object_key, f.bytes])).toEqual(task!.files.map((f) => [f.object_key, f.bytes]));
}, 90_000);

test('a recording stopped through the API node while a worker is killed (SIGKILL) is made and uploaded by the worker left', async () => {
  const ids = { app_id: 'takeover-app', project_id: 'p', sign_key: 'k', channel: 'room' };
  await arrangeOnFleet(api, { ...ids, uids: [7] }, storage.settings());
  const taskId = await startTask(api.baseUrl, { ...ids, is_mixing_enabled: 1, mixed_video_audio: 1, mixResolution: '320,240,15,300' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await recorder.stop('SIGKILL');
  const killed = performance.now();
  // Stopped through the API node: a worker hears of it and hands it to the queue; the one left takes it.
  await sandbox(api.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  let task: { state: string; files: { object_key: string; bytes: number }[] } | undefined;
  while (task?.state !== 'completed') {
    expect(performance.now() - killed, `task ${taskId} still ${task?.state}`).toBeLessThan(60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    task = (await sandbox(api.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as typeof task;
  }
  const [file] = task.files;
  expect((await storage.download(file!.object_key)).length).toBe(file!.bytes);
}, 90_000);

test("a worker's /readyz follows its database and queue: 503 naming them while PostgreSQL is down, 200 once it is back", async () => {
  const readyz = async () => {
    const answer = await fetch(`${worker.baseUrl}/readyz`);
    expect(await responseProblems('GET', '/readyz', answer, operationsValidator)).toEqual([]);
    return { status: answer.status, body: (await answer.json()) as { checks: { name: string; ok: boolean }[] } };
  };
  const ready = await readyz();
  expect(ready.status).toBe(200);
  expect(ready.body.checks.map((c) => c.name)).toEqual(['database', 'schema', 'queue', 'shutdown']);
  await database.stop();
  try {
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['database', 'schema', 'queue']);
  } finally {
    await database.start();
  }
  await expect.poll(async () => (await readyz()).status, { timeout: 20_000, interval: 250 }).toBe(200);
  const metrics = await (await fetch(`${worker.baseUrl}/metrics`)).text();
  expect(metrics).toMatch(/^cloudrec_jobs\{state="waiting"\} \d+$/m);
}, 60_000);

// Late: the conformance run's wrong keys leave this address over its failure limit for a while.
test('cloudrec conformance, run as users run it, exits 0 through the API node of the fleet', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), 'conformance', '--base-url', api.baseUrl, '--seed', '2', '--runs', '20'], { encoding: 'utf8' });
  expect(stdout).toMatch(/^Conforms: \d+ passed, 0 failed, \d+ skipped/m);
}, 120_000);

test('generated requests spread over two API nodes: every answer in the spec, never a 5xx, every precondition reached', async () => {
  // A second API node of its own (the node that also recorded was killed above).
  const other = await startReferenceServer({ ...fleet, CLOUDREC_ROLE: 'api' });
  try {
    // Several apps, so the fleet's limit of 10 starts a second an app leaves most requests to reach the preconditions.
    const projects = [];
    for (let i = 0; i < 8; i++) {
      const app = `prop-fleet-${i}`;
      const [ready, off, bare] = ['ready', 'off', 'bare'].map((project) => ({ app_id: app, project_id: project, sign_key: `key-${project}` }));
      await arrangeOnFleet(api, { ...ready!, channel: 'busy-room', uids: [1] }, storage.settings(), [api, other]);
      await arrangeOnFleet(api, off!, storage.settings(), [api, other]);
      await sandbox(api.baseUrl, 'PATCH', `/sandbox/projects/${app}/off`, { recording_enabled: false });
      await arrangeOnFleet(api, bare!, null, [api, other]);
      projects.push(ready!, off!, bare!);
    }
    const request = fc.tuple(validBody, fc.constantFrom(undefined, ...projects), fc.constantFrom('busy-room', 'empty-room'), fc.boolean());
    const seen = new Set<string>();
    let client = 0;
    await fc.assert(
      fc.asyncProperty(request, async ([body, project, channel, first]) => {
        const sent = project ? { ...body, ...project, channel } : body;
        // Each request from an address of its own (the loopback proxy is trusted): wrong keys are
        // counted per address across the fleet, and this test is not about that limit.
        client += 1;
        const answer = await fetch(`${(first ? api : other).baseUrl}/v1/cloudRecord`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.1.${client >> 8}.${client & 255}` },
          body: JSON.stringify(sent),
        });
        expect(answer.status).toBeLessThan(500);
        expect(await responseProblems('POST', '/v1/cloudRecord', answer)).toEqual([]);
        seen.add(answer.status === 200 ? 'ok' : ((await answer.json()) as { code: string }).code);
      }),
      { numRuns: 500, seed: 20261203 },
    );
    console.log(`answers seen: ${[...seen].sort().join(', ')}`);
    expect([...seen].sort()).toEqual(
      ['ok', 'invalid_credentials', 'recording_not_enabled', 'storage_not_configured', 'channel_empty', 'channel_already_recording', 'rate_limited'].sort(),
    );
  } finally {
    await other.stop();
    other.remove();
  }
}, 120_000);

test('a node given a database that refuses it exits 2 saying why, and never prints the password', async () => {
  const url = database.url.replace('cloudrec@', 'cloudrec:never-printed@').replace(/\/cloudrec$/, '/nosuchdb');
  const result = await promisify(execFile)(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), 'serve'], {
    env: { ...process.env, CLOUDREC_DATABASE_URL: url, CLOUDREC_SECRET_KEY: randomBytes(32).toString('base64'), CLOUDREC_PORT: '0', CLOUDREC_DATA_DIR: tempDir('cloudrec-refused-') },
    encoding: 'utf8',
  }).then(() => ({ code: 0, stdout: '', stderr: '' }), (error: { code: number; stdout: string; stderr: string }) => error);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('refused this node: database "nosuchdb" does not exist');
  expect(`${result.stdout}${result.stderr}`).not.toContain('never-printed');
}, 60_000);
