// The operations API (openapi/operations/) against the reference server as a process: health,
// readiness and metrics each in the spec, and the metrics counting what the node really did: a
// start answered, a task recorded, rendered and uploaded to a real S3-compatible store.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { responseProblems } from '../../src/conformance/exchange-check.js';
import { operationsValidator } from '../../src/spec/operations-document.js';
import { arrangeProject, postStart, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';

let server: ReferenceServer;
let storage: StorageServer;

beforeAll(async () => {
  [server, storage] = await Promise.all([startReferenceServer({ CLOUDREC_LOG_LEVEL: 'warn' }, undefined, { compiled: true }), startStorageServer()]);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
  await storage?.remove();
});

const get = async (path: string, init?: RequestInit) => {
  const answer = await fetch(`${server.baseUrl}${path}`, init);
  expect(await responseProblems('GET', path, answer, operationsValidator), `GET ${path} ${answer.status}`).toEqual([]);
  return answer;
};

/** The value of one sample of the metrics text (0 when absent). */
const sample = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
};

test('GET /healthz: the node is up, with its role', async () => {
  const answer = await get('/healthz');
  expect(answer.status).toBe(200);
  expect(await answer.json()).toMatchObject({ status: 'ok', role: 'all' });
});

test('GET /readyz: the embedded database answers and holds the schema this node needs', async () => {
  const answer = await get('/readyz');
  expect(answer.status).toBe(200);
  const body = (await answer.json()) as { checks: { name: string; ok: boolean; detail: string }[] };
  expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
    ['database', true],
    ['schema', true],
    ['shutdown', true],
  ]);
  expect(body.checks[0]!.detail).toMatch(/^SQLite answered in \d+ ms$/);
});

test('GET /metrics counts a start, its latency, the task in flight, then its render and upload', async () => {
  const ids = { app_id: 'metrics-app', project_id: 'p', sign_key: 'k', channel: 'room' };
  await arrangeProject(server.baseUrl, { ...ids, uids: [1] }, storage.settings());
  const before = await (await get('/metrics')).text();
  expect((await postStart(server.baseUrl, { ...ids, mixResolution: '320,240,15,300' })).status).toBe(200);
  const { task_id: taskId } = (await (await postStart(server.baseUrl, { ...ids, mixResolution: '320,240,15,300' })).json()) as { task_id: number };
  expect((await postStart(server.baseUrl, { ...ids, mixResolution: '640,360,15,500' })).status).toBe(409);

  const during = await get('/metrics');
  expect(during.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await during.text();
  const starts = (status: number) => `cloudrec_http_requests_total{route="/v1/cloudRecord",method="POST",status="${status}"}`;
  expect(sample(text, starts(200)) - sample(before, starts(200))).toBe(2);
  expect(sample(text, starts(409)) - sample(before, starts(409))).toBe(1);
  expect(sample(text, 'cloudrec_start_duration_seconds_count') - sample(before, 'cloudrec_start_duration_seconds_count')).toBe(3);
  expect(sample(text, 'cloudrec_tasks{state="recording"}')).toBe(1);
  expect(sample(text, 'cloudrec_http_requests_total{route="/sandbox/projects/:app_id/:project_id",method="PUT",status="200"}')).toBe(1);
  expect(text).toMatch(/^cloudrec_process_resident_memory_bytes \d+/m);

  await new Promise((resolve) => setTimeout(resolve, 2000)); // two seconds of media
  await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  let task: { state: string; files: { bytes: number }[] } | undefined;
  while (task?.state !== 'completed') {
    expect(task?.state).not.toBe('failed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    task = (await sandbox(server.baseUrl, 'GET', `/sandbox/tasks/${taskId}`)) as typeof task;
  }
  const after = await (await get('/metrics')).text();
  expect(sample(after, 'cloudrec_tasks{state="recording"}')).toBe(0);
  expect(sample(after, 'cloudrec_tasks_ended_total{state="completed"}')).toBe(1);
  expect(sample(after, 'cloudrec_upload_bytes_total')).toBe(task.files.reduce((sum, f) => sum + f.bytes, 0));
  expect(sample(after, 'cloudrec_render_seconds_total')).toBeGreaterThan(0);
  expect(sample(after, 'cloudrec_rendered_media_seconds_total')).toBeGreaterThan(1.5);
  expect(sample(after, 'cloudrec_render_seconds_per_media_second_count')).toBe(1);
  expect(sample(after, 'cloudrec_jobs{state="running"}')).toBe(0);
}, 60_000);
