// Delivering webhook events from the embedded database to real receivers (node:http servers on
// loopback): what is sent and signed, the order per task, retries on the schedule, what is refused
// and what a slow receiver does not hold up. The tasks' state changes are driven through the store,
// as the runner makes them; a real recording's events are in webhook-process.test.ts and the
// installed package's test.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { buildApp } from '../../src/server/app.js';
import { openDatabase } from '../../src/server/database.js';
import { sqliteStores } from '../../src/server/stores.js';
import type { Task } from '../../src/server/task-store.js';
import { createWebhookDispatcher, type DispatcherDeps } from '../../src/server/webhook-dispatcher.js';
import { nonPublicKind } from '../../src/server/webhook-address.js';
import { nextAttempt, specSchedule, type DeliverySchedule } from '../../src/server/webhook-events.js';
import { apiValidator } from '../../src/spec/api-document.js';
import { sandboxValidator } from '../../src/spec/sandbox-document.js';
import { verifyWebhook } from '../../src/webhooks.js';
import { startHttpServer, type SeenRequest, type TestHttpServer } from '../support/http-server.js';

const settings = { audio_profile: 0, layout_mode: 0, mix_resolution: 1, is_audio_only: 0, is_video_only: 0, uids: [] } as unknown as Task['settings'];
const fast: DeliverySchedule = { ...specSchedule, firstDelaySec: 0.2, timeoutSec: 2 };
const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A receiver that answers each request with what `answer` says (or holds it, for `hang`), timing each. */
async function receiver(answer: (req: SeenRequest, n: number) => number | 'hang' = () => 204) {
  const times: number[] = [];
  const held: ServerResponse[] = [];
  const server: TestHttpServer = await startHttpServer((req, res) => {
    times.push(performance.now());
    const status = answer(req, server.requests.length);
    if (status === 'hang') held.push(res);
    else res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:9/elsewhere' } : {}).end();
  });
  cleanups.push(() => server.close());
  return { server, times, held };
}

/** The embedded stores in memory, a project with a webhook to `url`, and a dispatcher over them. */
async function setup(url: string, options: Partial<DispatcherDeps> = {}) {
  const db = openDatabase(':memory:');
  // Real time, moved on by `advance`.
  const started = Date.now();
  let clock = started;
  const stores = sqliteStores(db, undefined, () => clock + (Date.now() - started));
  await stores.projects.put('app', 'proj', { sign_key: 'k'.repeat(32), recording_enabled: true, storage: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'recordings', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true } });
  const secret = 'whsec_first';
  await stores.projects.patch('app', 'proj', { webhook: { url, secret, previous_secret: null, previous_until: null } });
  const dispatcher = createWebhookDispatcher({ outbox: stores.outbox, projects: stores.projects, log: silentLog, allowPrivate: true, schedule: fast, pollMs: 100, now: () => clock + (Date.now() - started), ...options });
  await dispatcher.start();
  cleanups.push(async () => {
    await dispatcher.stop();
    db.close();
  });
  const newTask = (channel = 'room') => stores.tasks.create({ app_id: 'app', project_id: 'proj', channel, settings });
  return { db, stores, dispatcher, secret, newTask, advance: (ms: number) => (clock += ms) };
}

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const schemaOf = (type: string) => apiValidator.schemaAt(`/webhooks/${type}/post/requestBody/content/application~1json/schema`);

describe('the delivery schedule', () => {
  test("is the spec's: 10 s, then three times the last up to 4 hours, within 20 % either way", () => {
    const delays = Array.from({ length: 9 }, (_, i) => nextAttempt(specSchedule, i + 1, 0, 0, () => 0.5));
    expect(delays.map((d) => (d.state === 'pending' ? d.next_at / 1000 : d.state))).toEqual([10, 30, 90, 270, 810, 2430, 7290, 14400, 14400]);
    const low = nextAttempt(specSchedule, 1, 0, 0, () => 0);
    const high = nextAttempt(specSchedule, 1, 0, 0, () => 1);
    expect([low, high]).toEqual([{ state: 'pending', next_at: 8000 }, { state: 'pending', next_at: 12000 }]);
  });

  test('gives up once the next attempt would be more than 24 hours after the first', () => {
    const day = 86_400_000;
    expect(nextAttempt(specSchedule, 12, 0, day - 14_401_000, () => 0.5)).toMatchObject({ state: 'pending' });
    expect(nextAttempt(specSchedule, 12, 0, day - 14_399_000, () => 0.5)).toMatchObject({ state: 'given_up', reason: expect.stringContaining('24 hours') });
  });
});

describe('the addresses events are not sent to unless allowed', () => {
  test.each([
    ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['10.1.2.3', 'private'], ['172.20.0.1', 'private'], ['192.168.1.1', 'private'],
    ['fd00::1', 'private'], ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['::ffff:10.0.0.1', 'private'],
    ['0.0.0.0', 'unspecified'], ['100.64.0.1', 'shared (carrier-grade NAT)'],
  ])('%s is %s', (address, kind) => expect(nonPublicKind(address)).toBe(kind));

  test.each(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '172.32.0.1'])('%s is public', (address) => expect(nonPublicKind(address)).toBeUndefined());
});

describe('webhook delivery', () => {
  test('sends recording.started after the task is committed, then recording.completed, signed, each valid against the spec', async () => {
    const { server } = await receiver();
    const { stores, newTask, secret } = await setup(server.url);
    const task = newTask();
    stores.tasks.update(task.task_id, { state: 'finalizing', ended_at: Date.now(), end_reason: 'stopped' });
    const files = [{ name: 'mix.mp4', kind: 'mixed' as const, object_key: 'proj/room/1/mix.mp4', bytes: 1000, duration_sec: 2.5, uploaded: true }];
    stores.tasks.update(task.task_id, { state: 'uploading', files });
    stores.tasks.update(task.task_id, { state: 'completed' });
    await until(() => server.requests.length === 2);
    const events = [];
    for (const request of server.requests) {
      expect(request.headers['content-type']).toBe('application/json');
      const verified = await verifyWebhook(request.body, request.headers, secret);
      if (!verified.ok) throw new Error(verified.message);
      expect(request.headers['cloudrec-event-id']).toBe(verified.event.id);
      const validate = schemaOf(verified.event.type);
      expect(validate(JSON.parse(request.body)), JSON.stringify(validate.errors)).toBe(true);
      events.push(verified.event);
    }
    expect(events.map((e) => e.type)).toEqual(['recording.started', 'recording.completed']);
    expect(events[1]).toMatchObject({ task_id: task.task_id, channel: 'room', data: { end_reason: 'stopped', bucket: 'recordings', files: [{ name: 'mix.mp4', object_key: 'proj/room/1/mix.mp4', bytes: 1000 }] } });
    // Only the event: nothing of the task's settings or the project's secrets.
    expect(server.requests.map((r) => r.body).join()).not.toMatch(/whsec_|sign_key|uploaded/);
  });

  test('a failed task sends recording.failed with its reason; a task of a project without a webhook sends nothing', async () => {
    const { server } = await receiver();
    const { stores, newTask, secret } = await setup(server.url);
    const task = newTask();
    stores.tasks.update(task.task_id, { state: 'failed', failure_reason: 'Uploading mix.mp4 to bucket b failed: NoSuchBucket.' });
    await stores.projects.put('app', 'quiet', { sign_key: 'k'.repeat(32), recording_enabled: true, storage: null });
    const quiet = stores.tasks.create({ app_id: 'app', project_id: 'quiet', channel: 'other', settings });
    stores.tasks.update(quiet.task_id, { state: 'failed', failure_reason: 'x' });
    await until(() => server.requests.length === 2);
    const failed = await verifyWebhook(server.requests[1]!.body, server.requests[1]!.headers, secret);
    expect(failed.ok && failed.event).toMatchObject({ type: 'recording.failed', data: { reason: 'Uploading mix.mp4 to bucket b failed: NoSuchBucket.' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests).toHaveLength(2);
    expect(stores.outbox.list(quiet.task_id)).toEqual([]);
  });

  test('a receiver answering 500, 500, then 200 gets the same event three times, at growing intervals, all listed', async () => {
    const { server, times } = await receiver((_req, n) => (n <= 2 ? 500 : 200));
    const { stores, newTask } = await setup(server.url);
    const task = newTask();
    await until(() => server.requests.length === 3);
    const ids = server.requests.map((r) => r.headers['cloudrec-event-id']);
    expect(new Set(ids).size).toBe(1);
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    // 0.2 s then 0.6 s, each ± 20 %.
    expect(gaps[0]).toBeGreaterThanOrEqual(160 - 5);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[1]).toBeGreaterThanOrEqual(480 - 5);
    await until(() => stores.outbox.list(task.task_id)[0]?.state === 'delivered');
    const [delivery] = stores.outbox.list(task.task_id);
    expect(delivery!.attempts.map((a) => [a.status, a.error])).toEqual([[500, 'answered 500'], [500, 'answered 500'], [200, null]]);
  });

  test("a task's events go one after the other: recording.completed waits until recording.started is delivered", async () => {
    let refuse = true;
    const { server } = await receiver(() => (refuse ? 503 : 204));
    const { stores, newTask, dispatcher } = await setup(server.url, { schedule: { ...fast, firstDelaySec: 0.3 } });
    const task = newTask();
    stores.tasks.update(task.task_id, { state: 'failed', failure_reason: 'x' });
    await until(() => server.requests.length >= 2);
    expect(server.requests.every((r) => JSON.parse(r.body).type === 'recording.started')).toBe(true);
    refuse = false;
    await until(() => stores.outbox.list(task.task_id).every((d) => d.state === 'delivered'));
    await dispatcher.idle();
    const types = server.requests.map((r) => JSON.parse(r.body).type as string);
    expect(types.at(-1)).toBe('recording.failed');
    expect(types.indexOf('recording.failed')).toBe(types.length - 1);
  });

  test("a receiver that never answers holds up neither starts nor other projects' events: it gets at most its project's share of the senders", async () => {
    const slow = await receiver(() => 'hang');
    const quick = await receiver();
    const { stores, newTask } = await setup(slow.server.url, { schedule: { ...fast, timeoutSec: 1.5 }, concurrency: 16, perProject: 4 });
    await stores.projects.put('app', 'other', { sign_key: 'k'.repeat(32), recording_enabled: true, storage: null });
    await stores.projects.patch('app', 'other', { webhook: { url: quick.server.url, secret: 'whsec_o', previous_secret: null, previous_until: null } });
    const held = Array.from({ length: 30 }, (_, i) => newTask(`held-${i}`));
    await until(() => slow.server.requests.length === 4);
    // While they hang: starts are written at once, and another project's events go out.
    const started = performance.now();
    for (let i = 0; i < 20; i++) stores.tasks.create({ app_id: 'app', project_id: 'other', channel: `c${i}`, settings });
    expect(performance.now() - started).toBeLessThan(1000);
    await until(() => quick.server.requests.length === 20, 1400);
    expect(slow.server.requests).toHaveLength(4);
    await until(() => stores.outbox.list(held[0]!.task_id)[0]!.attempts.length === 1);
    expect(stores.outbox.list(held[0]!.task_id)[0]).toMatchObject({ state: 'pending', attempts: [{ status: null, error: 'no answer within 1.5 s' }] });
  });

  test('refuses a loopback receiver unless private addresses are allowed, and says why', async () => {
    const { server } = await receiver();
    const { newTask, stores } = await setup(server.url, { allowPrivate: false });
    const task = newTask();
    await until(() => stores.outbox.list(task.task_id)[0]!.attempts.length > 0);
    expect(server.requests).toHaveLength(0);
    expect(stores.outbox.list(task.task_id)[0]!.attempts[0]).toMatchObject({
      status: null,
      error: expect.stringMatching(/^refused: 127\.0\.0\.1, a loopback address; .*CLOUDREC_WEBHOOK_PRIVATE_ADDRESSES=allow/),
    });
  });

  test('follows no redirect: a 302 is a failed attempt, retried, and its target gets nothing', async () => {
    const target = await receiver();
    const { server } = await startRedirecting(target.server.url);
    const { newTask, stores } = await setup(server.url);
    const task = newTask();
    await until(() => stores.outbox.list(task.task_id)[0]!.attempts.length >= 2);
    expect(target.server.requests).toHaveLength(0);
    expect(stores.outbox.list(task.task_id)[0]).toMatchObject({ state: 'pending', attempts: [{ status: 302, error: 'answered 302, a redirect: redirects are not followed' }, { status: 302 }] });
  });

  test('during a rotation both secrets sign, so a receiver on either accepts; after the overlap only the new one', async () => {
    const { server } = await receiver();
    const { stores, newTask, advance } = await setup(server.url);
    const until24h = Date.now() + 86_400_000;
    await stores.projects.patch('app', 'proj', { webhook: { url: server.url, secret: 'whsec_new', previous_secret: 'whsec_first', previous_until: until24h } });
    newTask('a');
    await until(() => server.requests.length === 1);
    const during = server.requests[0]!;
    expect(String(during.headers['cloudrec-signature']).match(/v1=/g)).toHaveLength(2);
    for (const secret of ['whsec_new', 'whsec_first']) expect((await verifyWebhook(during.body, during.headers, secret)).ok, secret).toBe(true);
    advance(86_400_001);
    newTask('b');
    await until(() => server.requests.length === 2);
    const after = server.requests[1]!;
    const now = () => Date.now() + 86_400_001;
    expect((await verifyWebhook(after.body, after.headers, 'whsec_new', { now })).ok).toBe(true);
    expect(await verifyWebhook(after.body, after.headers, 'whsec_first', { now })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  test('a receiver that never answers 2xx is given up once the next attempt would pass the give-up time; nothing more is sent', async () => {
    const { server } = await receiver(() => 500);
    // 0.1 s, 0.3 s, then 0.9 s would pass the 0.7 s after the first attempt.
    const { stores, newTask } = await setup(server.url, { schedule: { ...fast, firstDelaySec: 0.1, giveUpAfterSec: 0.7, jitter: 0 } });
    const task = newTask();
    await until(() => stores.outbox.list(task.task_id)[0]!.state === 'given_up');
    const [given] = stores.outbox.list(task.task_id);
    expect(given!.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
    expect(given!.given_up_reason).toBe('No 2xx answer within 0.7 seconds of the first attempt (3 attempts).');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.requests).toHaveLength(3);
  });

  test('an attempt that throws is logged and tried again once a lease would have run out, not at once in a loop', async () => {
    const errors: object[] = [];
    let calls = 0;
    const send = async () => {
      calls += 1;
      throw new Error('a bug in sending');
    };
    const { stores, newTask } = await setup('http://127.0.0.1:9/', { send, schedule: { ...fast, timeoutSec: 0.1 }, log: { ...silentLog, error: (fields: object) => errors.push(fields) } });
    const task = newTask();
    await until(() => calls === 1);
    // The lease here is the timeout and 20 s: within a second, no second try.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(calls).toBe(1);
    expect(errors).toMatchObject([{ event_id: stores.outbox.list(task.task_id)[0]!.event_id, retry_in_ms: 20_100 }]);
    expect(stores.outbox.list(task.task_id)[0]).toMatchObject({ state: 'pending', attempts: [] });
  });

  test("an event whose project's webhook was removed is given up, with the reason", async () => {
    const { server } = await receiver(() => 500);
    const { stores, newTask } = await setup(server.url);
    const task = newTask();
    await until(() => server.requests.length === 1);
    await stores.projects.patch('app', 'proj', { webhook: null });
    await until(() => stores.outbox.list(task.task_id)[0]!.state === 'given_up');
    expect(stores.outbox.list(task.task_id)[0]!.given_up_reason).toBe("The project's webhook was removed before the event was delivered.");
  });
});

describe('GET /sandbox/tasks/{task_id}/deliveries', () => {
  test("lists a task's events with every attempt, as the sandbox spec says; 404 for a task that is not there", async () => {
    const { server } = await receiver((_req, n) => (n === 1 ? 500 : 204));
    const { db, stores, newTask } = await setup(server.url);
    const { app } = buildApp({ config: { ...loadConfig({}), logLevel: 'silent' }, db, stores });
    cleanups.push(() => app.close());
    const task = newTask();
    await until(() => stores.outbox.list(task.task_id)[0]?.state === 'delivered');
    const answer = await app.inject({ method: 'GET', url: `/sandbox/tasks/${task.task_id}/deliveries` });
    expect(answer.statusCode).toBe(200);
    const validate = sandboxValidator.schemaAt('/paths/~1sandbox~1tasks~1{task_id}~1deliveries/get/responses/200/content/application~1json/schema');
    expect(validate(answer.json()), JSON.stringify(validate.errors)).toBe(true);
    expect(answer.json()).toMatchObject({
      deliveries: [{ type: 'recording.started', state: 'delivered', next_attempt_at: null, attempts: [{ status: 500 }, { status: 204, error: null }], event: { task_id: task.task_id } }],
    });
    const missing = await app.inject({ method: 'GET', url: '/sandbox/tasks/999/deliveries' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'not_found']);
  });
});

/** A receiver that redirects every request to `to`. */
async function startRedirecting(to: string) {
  const server = await startHttpServer((_req, res) => res.writeHead(302, { location: to }).end());
  cleanups.push(() => server.close());
  return { server };
}
