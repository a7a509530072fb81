// Webhook events of real recordings: the reference server as a process (real ffmpeg, a real
// S3-compatible store) sending to a real receiver, which checks each event as a user's would. And
// an event accepted before a crash is delivered after the restart.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiValidator } from '../../src/spec/api-document.js';
import { verifyWebhook, type WebhookEvent } from '../../src/webhooks.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';
import { startStorageServer, type StorageServer } from '../support/s3rver.js';

let storage: StorageServer;
let server: ReferenceServer;
let receiver: TestHttpServer;
/** Each request's answer: a status, or held open. */
let answer: () => number | 'hang' = () => 204;
const held: ServerResponse[] = [];

beforeAll(async () => {
  storage = await startStorageServer();
  receiver = await startHttpServer((_req, res) => {
    const status = answer();
    if (status === 'hang') held.push(res);
    else res.writeHead(status).end();
  });
  server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  server?.remove();
  await receiver?.close();
  await storage?.remove();
});

/** A project whose webhook is the receiver, with `bucket` for storage; resolves with its signing secret. */
async function hookedProject(projectId: string, channel: string, bucket = 'recordings') {
  const ids = { app_id: 'hooks-app', project_id: projectId, sign_key: `${projectId}-key`, channel };
  await arrangeProject(server.baseUrl, { ...ids, uids: [7, 8] }, storage.settings(bucket));
  const { secret } = (await sandbox(server.baseUrl, 'PUT', `/sandbox/projects/hooks-app/${projectId}/webhook`, { url: receiver.url })) as { secret: string };
  return { ids, secret };
}

/** The events of `taskId` the receiver got so far, each verified with `secret` and checked against the spec. */
async function eventsOf(taskId: number, secret: string): Promise<WebhookEvent[]> {
  const events: WebhookEvent[] = [];
  for (const request of receiver.requests) {
    const verified = await verifyWebhook(request.body, request.headers, secret);
    if (!verified.ok || verified.event.task_id !== taskId) continue;
    const validate = apiValidator.schemaAt(`/webhooks/${verified.event.type}/post/requestBody/content/application~1json/schema`);
    expect(validate(verified.event), JSON.stringify(validate.errors)).toBe(true);
    events.push(verified.event);
  }
  return events;
}

/** Records `taskId` for `recordForMs`, stops it, and resolves with its events once there are two. */
async function recordAndStop(taskId: number, secret: string, recordForMs: number): Promise<WebhookEvent[]> {
  await new Promise((resolve) => setTimeout(resolve, recordForMs));
  await sandbox(server.baseUrl, 'POST', `/sandbox/tasks/${taskId}/stop`);
  return waitFor(async () => {
    const got = await eventsOf(taskId, secret);
    return got.length === 2 ? got : undefined;
  });
}

async function waitFor<T>(read: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a real recording sends recording.started, then recording.completed naming objects that are in the bucket', async () => {
  const { ids, secret } = await hookedProject('filmed', 'filmed-room');
  const taskId = await startTask(server.baseUrl, ids);
  await waitFor(async () => ((await eventsOf(taskId, secret)).length === 1 ? true : undefined));
  const events = await recordAndStop(taskId, secret, 1500);
  expect(events.map((e) => e.type)).toEqual(['recording.started', 'recording.completed']);
  const completed = events[1]!;
  if (completed.type !== 'recording.completed') throw new Error('not completed');
  expect(completed.data).toMatchObject({ end_reason: 'stopped', bucket: 'recordings' });
  expect(completed.data.files.length).toBeGreaterThan(0);
  for (const file of completed.data.files) expect((await storage.download(file.object_key)).length).toBe(file.bytes);
  const { deliveries } = (await sandbox(server.baseUrl, 'GET', `/sandbox/tasks/${taskId}/deliveries`)) as { deliveries: { state: string; event_id: string }[] };
  expect(deliveries.map((d) => [d.event_id, d.state])).toEqual(events.map((e) => [e.id, 'delivered']));
}, 120_000);

test('an upload the bucket refuses sends recording.failed with the reason', async () => {
  const { ids, secret } = await hookedProject('unbucketed', 'unbucketed-room', 'no-such-bucket');
  const taskId = await startTask(server.baseUrl, ids);
  const events = await recordAndStop(taskId, secret, 1000);
  expect(events.map((e) => e.type)).toEqual(['recording.started', 'recording.failed']);
  expect(events[1]).toMatchObject({ data: { reason: expect.stringContaining('no-such-bucket') } });
}, 120_000);

test('an event whose delivery a crash cut short is delivered after the restart, with the same id', async () => {
  const { ids, secret } = await hookedProject('crashing', 'crashing-room');
  answer = () => 'hang';
  const before = receiver.requests.length;
  const taskId = await startTask(server.baseUrl, ids);
  await waitFor(async () => (receiver.requests.length > before ? true : undefined));
  const cut = await eventsOf(taskId, secret);
  expect(cut).toHaveLength(1);
  await server.stop('SIGKILL');
  for (const res of held.splice(0)) res.destroy();
  answer = () => 204;
  server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' }, server.dataDir);
  const { deliveries } = await waitFor(async () => {
    const listed = (await sandbox(server.baseUrl, 'GET', `/sandbox/tasks/${taskId}/deliveries`)) as { deliveries: { state: string; event_id: string }[] };
    return listed.deliveries[0]?.state === 'delivered' ? listed : undefined;
  });
  const after = await eventsOf(taskId, secret);
  expect(after.map((e) => e.id)).toEqual([cut[0]!.id, cut[0]!.id]);
  expect(deliveries[0]!.event_id).toBe(cut[0]!.id);
}, 120_000);
