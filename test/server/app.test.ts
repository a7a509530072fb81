// The reference server's app in-process (Fastify inject, no port): the failures a real process
// cannot be made to show on demand, the request log, and what is never let out (secrets).
import { mkdirSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { defaultConfig, type Config } from '../../src/server/config.js';
import { openDatabase, pragma } from '../../src/server/database.js';
import { apiValidator } from '../../src/spec/api-document.js';
import { operationsValidator } from '../../src/spec/operations-document.js';
import { sandboxValidator } from '../../src/spec/sandbox-document.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';
import { tempDir } from '../support/temp-dir.js';

const signKey = 'sign-key-that-must-never-show';
const secretAccessKey = 'storage-secret-that-must-never-show';
const ids = { app_id: 'app-1', project_id: 'proj-1', channel: 'room-1' };

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

/** An app on an in-memory database with a ready project and one user in the channel; its log lines kept. */
async function arrangedApp(config: Partial<Config> = {}) {
  const db = openDatabase(':memory:');
  const lines: string[] = [];
  const built = buildApp({ config: { ...defaultConfig, ...config }, db, logStream: { write: (line) => void lines.push(line) } });
  open.push(built.app);
  const put = await built.app.inject({
    method: 'PUT',
    url: `/sandbox/projects/${ids.app_id}/${ids.project_id}`,
    headers: { 'content-type': 'application/json' },
    payload: {
      sign_key: signKey,
      storage: { endpoint: 'http://127.0.0.1:9', bucket: 'recordings', access_key_id: 'AKIA', secret_access_key: secretAccessKey },
    },
  });
  expect(put.statusCode).toBe(200);
  built.channels.join(ids.app_id, ids.channel, 1001, { audio: true, video: true, dual_stream: false });
  const start = (body: object = {}) =>
    built.app.inject({
      method: 'POST',
      url: '/v1/cloudRecord',
      headers: { 'content-type': 'application/json' },
      payload: { ...ids, sign_key: signKey, ...body },
    });
  return { ...built, db, lines, start };
}

/** A fetch Response of an inject answer, for the spec checks. */
const asResponse = (answer: { statusCode: number; headers: Record<string, unknown>; body: string }) =>
  new Response(answer.statusCode === 204 ? null : answer.body, { status: answer.statusCode, headers: answer.headers as Record<string, string> });

describe('the reference server app', () => {
  test('answers internal_error in the spec shape when its database fails', async () => {
    const { db, start } = await arrangedApp();
    db.close();
    const answer = await start();
    expect(answer.statusCode).toBe(500);
    expect(answer.json()).toMatchObject({ code: 'internal_error' });
    expect(await responseProblems('POST', '/v1/cloudRecord', asResponse(answer))).toEqual([]);
  });

  test('writes one log line per request with method, path, status, time and task_id', async () => {
    const { start, lines } = await arrangedApp();
    const answer = await start();
    expect(answer.statusCode).toBe(200);
    const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.path === '/v1/cloudRecord');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ method: 'POST', status: 200, task_id: answer.json().task_id });
    expect(typeof requestLines[0].ms).toBe('number');
  });

  test('sends an X-Request-Id on every answer, the one logged for the request', async () => {
    const { app, start, lines } = await arrangedApp();
    const answers = [
      await start(),
      await start({ layout_mode: 9 }),
      await app.inject({ method: 'POST', url: '/v1/cloudRecord', headers: { 'content-type': 'text/plain' }, payload: 'x' }),
      await app.inject({ method: 'POST', url: '/v1/cloudRecord', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(70_000) }),
      await app.inject({ method: 'GET', url: '/sandbox/tasks' }),
      await app.inject({ method: 'GET', url: '/no/such/path' }),
    ];
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request').map((l) => l.request_id);
    const sent = answers.map((a) => a.headers['x-request-id']);
    for (const id of sent) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(sent).size).toBe(answers.length);
    expect(logged.slice(-answers.length)).toEqual(sent);
  });

  test("keeps a caller's X-Request-Id when it is a safe token, and replaces any other", async () => {
    const { app } = await arrangedApp();
    const withId = (id: string) => app.inject({ method: 'GET', url: '/sandbox/tasks', headers: { 'x-request-id': id } });
    expect((await withId('trace-42.a:b_c')).headers['x-request-id']).toBe('trace-42.a:b_c');
    for (const unsafe of ['has space', 'x'.repeat(129), '"quoted"', '']) {
      expect((await withId(unsafe)).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('never writes the sign_key or the storage secret to its log, even on failures', async () => {
    const { start, lines, app } = await arrangedApp();
    await start();
    await start({ layout_mode: 9 });
    await start({ sign_key: `${signKey}-wrong` });
    await app.inject({ method: 'POST', url: `/v1/cloudRecord?sign_key=${signKey}`, payload: `{"sign_key":"${signKey}"`, headers: { 'content-type': 'application/json' } });
    const log = lines.join('');
    expect(log).toContain('"path":"/v1/cloudRecord"');
    expect(log).not.toContain(signKey);
    expect(log).not.toContain(secretAccessKey);
  });

  test('never returns the sign_key or the storage secret from the sandbox API', async () => {
    const { app } = await arrangedApp();
    const answer = await app.inject({ method: 'GET', url: `/sandbox/projects/${ids.app_id}/${ids.project_id}` });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).not.toContain(signKey);
    expect(answer.body).not.toContain(secretAccessKey);
    expect(answer.json().storage).toMatchObject({ bucket: 'recordings' });
    const spec = await responseProblems('GET', '/sandbox/projects/{app_id}/{project_id}', asResponse(answer), sandboxValidator);
    expect(spec).toEqual([]);
  });

  test('answers rate_limited with Retry-After once an app goes over its requests per second', async () => {
    const { start } = await arrangedApp({ rateLimitPerSec: 2 });
    const statuses = [(await start()).statusCode, (await start({ layout_mode: 2 })).statusCode];
    const limited = await start({ layout_mode: 1 });
    expect([...statuses, limited.statusCode]).toEqual([200, 409, 429]);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await responseProblems('POST', '/v1/cloudRecord', asResponse(limited))).toEqual([]);
  });

  test("failed authentications do not spend the app's budget: a flood with a wrong key leaves the real client served", async () => {
    const { app, start } = await arrangedApp({ rateLimitPerSec: 2 });
    const stranger = (i: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/cloudRecord',
        remoteAddress: '203.0.113.9',
        headers: { 'content-type': 'application/json' },
        payload: { ...ids, sign_key: `wrong-${i}` },
      });
    for (let i = 0; i < 20; i++) expect((await stranger(i)).statusCode).toBe(401);
    expect((await start()).statusCode).toBe(200);
  });

  test('failed authentications are limited apart, per source address and per app_id', async () => {
    const { app } = await arrangedApp({ failedAuthPerMin: 3 });
    const from = (remoteAddress: string, sign_key: string) =>
      app.inject({ method: 'POST', url: '/v1/cloudRecord', remoteAddress, headers: { 'content-type': 'application/json' }, payload: { ...ids, sign_key } });
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push((await from('198.51.100.1', `guess-${i}`)).statusCode);
    expect(guesses).toEqual([401, 401, 401, 429]);
    // That address is not even checked any more, the right key included: no guessing from it.
    const blocked = await from('198.51.100.1', signKey);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(1);
    // The app_id's failure budget is spent for every address, but the real key still gets in.
    expect((await from('198.51.100.2', 'another-guess')).statusCode).toBe(429);
    expect((await from('198.51.100.2', signKey)).statusCode).toBe(200);
  });

  test("an identical repeat of an active task gets its task_id, spending none of the app's budget", async () => {
    const { start } = await arrangedApp({ rateLimitPerSec: 2 });
    const first = (await start()).json().task_id;
    const repeats = await Promise.all(Array.from({ length: 50 }, () => start()));
    expect(repeats.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect(new Set(repeats.map((r) => r.json().task_id))).toEqual(new Set([first]));
  });

  test('answers a start it cannot store (a full disk) with 503 service_unavailable and Retry-After, and stays up', async () => {
    const { db, start, app, channels } = await arrangedApp({ rateLimitPerSec: 1000 });
    for (let i = 0; i < 200; i++) channels.join(ids.app_id, `full-${i}`, 1, { audio: true, video: true, dual_stream: false });
    // A database that cannot grow: SQLite answers SQLITE_FULL, as on a full disk.
    pragma(db, `max_page_count = ${Number(pragma(db, 'page_count'))}`);
    const answers = [];
    for (let i = 0; i < 200; i++) answers.push(await start({ channel: `full-${i}` }));
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([200, 503]));
    const full = answers.find((a) => a.statusCode !== 200);
    expect(full?.statusCode).toBe(503);
    expect(full?.json()).toMatchObject({ code: 'service_unavailable', message: expect.stringMatching(/disk is full/) });
    expect(full?.headers['retry-after']).toBe('30');
    expect(await responseProblems('POST', '/v1/cloudRecord', asResponse(full!))).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/sandbox/tasks' })).statusCode).toBe(200);
  });

  test('answers a body over the size limit the spec states with 413 body_too_large, not a 5xx', async () => {
    const { start } = await arrangedApp();
    const answer = await start({ channel: 'x'.repeat(100_000) });
    expect(answer.statusCode).toBe(413);
    expect(answer.json()).toMatchObject({ code: 'body_too_large', message: 'The request body is larger than 65536 bytes.' });
    expect(await responseProblems('POST', '/v1/cloudRecord', asResponse(answer))).toEqual([]);
  });

  test.each(['app_id', 'project_id'])('refuses a control character in %s, in a start and in the sandbox path, with 400 invalid_parameter', async (field) => {
    const { start, app } = await arrangedApp();
    const answer = await start({ [field]: `${field === 'app_id' ? ids.app_id : ids.project_id}\u0000x` });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'invalid_parameter', message: expect.stringContaining(field) });
    expect(await responseProblems('POST', '/v1/cloudRecord', asResponse(answer))).toEqual([]);
    const url = field === 'app_id' ? '/sandbox/projects/victim%00x/p' : '/sandbox/projects/victim/x%00p';
    const put = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json' }, payload: { sign_key: 'k' } });
    expect(put.statusCode).toBe(400);
    expect(put.json()).toMatchObject({ code: 'invalid_parameter', message: expect.stringMatching(new RegExp(`^${field}: `)) });
    const member = await app.inject({ method: 'PUT', url: '/sandbox/apps/victim%01x/channels/room/users/1', headers: { 'content-type': 'application/json' }, payload: {} });
    expect(member.statusCode).toBe(400);
  });

  test('answers an unknown sandbox query parameter with a 400 naming it, not by ignoring it', async () => {
    const { app } = await arrangedApp();
    const answer = await app.inject({ method: 'GET', url: '/sandbox/tasks?limit=5' });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'invalid_parameter', message: 'limit: is not a parameter of this operation (it has: state)' });
    expect(await responseProblems('GET', '/sandbox/tasks', asResponse(answer), sandboxValidator)).toEqual([]);
  });

  test("answers an unknown path or method with a 404 in the spec's own Error shape", async () => {
    const { app } = await arrangedApp();
    const error = apiValidator.schemaAt(apiValidator.resolve('/components/schemas/Error').pointer);
    for (const [method, url] of [['GET', '/v2/nothing'], ['GET', '/v1/cloudRecord'], ['DELETE', '/v1/cloudRecord']] as const) {
      const answer = await app.inject({ method, url });
      expect(answer.statusCode, `${method} ${url}`).toBe(404);
      expect(answer.json()).toMatchObject({ code: 'not_found' });
      expect(error(answer.json()), `${method} ${url}: ${JSON.stringify(error.errors)}`).toBe(true);
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('serves the specs, and the docs site under /docs/ (the old addresses of the API pages lead to them)', async () => {
    const docsDir = tempDir('cloudrec-served-docs-');
    for (const [folder, text] of [['.', 'home page'], ['api/en', 'English page'], ['api/zh', '中文页面'], ['client', 'client reference']] as const) {
      mkdirSync(join(docsDir, folder), { recursive: true });
      writeFileSync(join(docsDir, folder, 'index.html'), `<html>${text}</html>`);
    }
    const { app } = await arrangedApp({ docsDir });
    for (const [from, to] of [['/docs', '/docs/'], ['/docs/en/', '/docs/api/en/'], ['/docs/zh', '/docs/api/zh/'], ['/docs/api/zh', '/docs/api/zh/']]) {
      expect((await app.inject({ method: 'GET', url: from! })).headers.location, from).toBe(to);
    }
    for (const [url, text] of [['/docs/', 'home page'], ['/docs/api/en/', 'English page'], ['/docs/api/zh/index.html', '中文页面'], ['/docs/client/', 'client reference']] as const) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain(text);
    }
    expect((await app.inject({ method: 'GET', url: '/docs/nothing.html' })).json()).toMatchObject({ code: 'not_found' });
    expect((await app.inject({ method: 'GET', url: '/docs/en/../../../package.json' })).statusCode).toBe(404);
    const spec = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(spec.json()).toMatchObject({ openapi: '3.1.0', paths: { '/v1/cloudRecord': {} } });
    expect((await app.inject({ method: 'GET', url: '/openapi.yaml' })).body).toMatch(/^openapi: 3\.1\.0/m);
    expect((await app.inject({ method: 'GET', url: '/sandbox/openapi.json' })).json()).toMatchObject({ paths: { '/sandbox/tasks': {} } });
    expect((await app.inject({ method: 'GET', url: '/operations/openapi.json' })).json()).toMatchObject({ paths: { '/healthz': {}, '/readyz': {}, '/metrics': {} } });
  });

  test('leaves the sandbox API out when the sandbox is switched off', async () => {
    const db = openDatabase(':memory:');
    const { app } = buildApp({ config: { ...defaultConfig, sandbox: false, logLevel: 'silent' }, db });
    open.push(app);
    expect((await app.inject({ method: 'GET', url: '/sandbox/tasks' })).statusCode).toBe(404);
  });

  test('GET /readyz answers 503 with Retry-After and the failed check while shutting down, and when its database fails', async () => {
    let stopping: string | undefined;
    const db = openDatabase(':memory:');
    const { app } = buildApp({ config: { ...defaultConfig, logLevel: 'silent' }, db, refusal: () => stopping });
    open.push(app);
    const readyz = async () => {
      const answer = await app.inject({ method: 'GET', url: '/readyz' });
      expect(await responseProblems('GET', '/readyz', asResponse(answer), operationsValidator)).toEqual([]);
      return answer;
    };
    expect((await readyz()).statusCode).toBe(200);
    stopping = 'SIGTERM';
    const closing = await readyz();
    expect(closing.statusCode).toBe(503);
    expect(closing.headers['retry-after']).toBe('5');
    expect(closing.json()).toMatchObject({ code: 'service_unavailable', message: 'Not ready: shutdown.' });
    stopping = undefined;
    db.close();
    const broken = await readyz();
    expect(broken.statusCode).toBe(503);
    expect(broken.json().checks.slice(0, 2)).toEqual([
      { name: 'database', ok: false, detail: expect.stringMatching(/^SQLite did not answer: /) },
      { name: 'schema', ok: false, detail: 'not checked: the database did not answer' },
    ]);
  });

  test('a worker answers the operations API alone: no start, no sandbox, no docs', async () => {
    const db = openDatabase(':memory:');
    const { app } = buildApp({ config: { ...defaultConfig, role: 'worker', databaseUrl: 'postgres://x/y', logLevel: 'silent' }, db });
    open.push(app);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok', role: 'worker' });
    for (const [method, url] of [['POST', '/v1/cloudRecord'], ['GET', '/sandbox/tasks'], ['GET', '/openapi.json'], ['GET', '/docs/']] as const) {
      expect((await app.inject({ method, url })).statusCode, url).toBe(404);
    }
  });

  test("a project's webhook: its secret made once and shown once, kept sealed, rotated with 24 hours of overlap, removed", async () => {
    const { app, db, lines } = await arrangedApp();
    const path = `/sandbox/projects/${ids.app_id}/${ids.project_id}/webhook`;
    const call = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) => {
      const answer = await app.inject({ method, url, ...(payload && { headers: { 'content-type': 'application/json' }, payload }) });
      const specPath = url.replace(ids.app_id, '{app_id}').replace(ids.project_id, '{project_id}');
      expect(await responseProblems(method, specPath, asResponse(answer), sandboxValidator), `${method} ${url}`).toEqual([]);
      return answer;
    };
    const created = (await call('PUT', path, { url: 'https://hooks.example.com/a' })).json();
    expect(created).toEqual({ url: 'https://hooks.example.com/a', secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/), previous_secret_expires_at: null });
    // Stored sealed: the secret is nowhere in the database file's row, nor in the log.
    const row = db.prepare('SELECT webhook FROM projects WHERE app_id = ?').get(ids.app_id) as { webhook: string };
    expect(row.webhook).not.toContain(created.secret);
    expect(row.webhook).toContain('https://hooks.example.com/a');
    // A new URL keeps the secret, and does not show it again.
    expect((await call('PUT', path, { url: 'http://127.0.0.1:8790/' })).json()).toEqual({ url: 'http://127.0.0.1:8790/', previous_secret_expires_at: null });
    const project = (await call('GET', `/sandbox/projects/${ids.app_id}/${ids.project_id}`)).json();
    expect(project.webhook).toEqual({ url: 'http://127.0.0.1:8790/', previous_secret_expires_at: null });
    expect(JSON.stringify(project)).not.toContain('whsec_');
    const before = Date.now();
    const rotated = (await call('POST', `${path}/rotate`)).json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const overlap = Date.parse(rotated.previous_secret_expires_at) - before;
    expect(overlap).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600 * 1000 + 1000);
    expect(lines.join('\n')).not.toContain(created.secret);
    expect(lines.join('\n')).not.toContain(rotated.secret);
    expect((await call('DELETE', path)).statusCode).toBe(204);
    expect((await call('GET', `/sandbox/projects/${ids.app_id}/${ids.project_id}`)).json().webhook).toBeNull();
    expect((await call('POST', `${path}/rotate`)).statusCode).toBe(404);
    expect((await call('DELETE', path)).statusCode).toBe(404);
  });

  test('a webhook URL must be https, or http to a loopback host', async () => {
    const { app } = await arrangedApp();
    const put = (url: string) =>
      app.inject({ method: 'PUT', url: `/sandbox/projects/${ids.app_id}/${ids.project_id}/webhook`, headers: { 'content-type': 'application/json' }, payload: { url } });
    for (const url of ['http://hooks.example.com/a', 'ftp://127.0.0.1/', 'http://10.0.0.5/', 'hooks.example.com']) {
      const answer = await put(url);
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'invalid_parameter' });
    }
    for (const url of ['https://hooks.example.com/a?b=c', 'http://localhost:3000/hooks', 'http://127.0.0.1/', 'http://[::1]:8080/x']) expect((await put(url)).statusCode, url).toBe(200);
  });
});
