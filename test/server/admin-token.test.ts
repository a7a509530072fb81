// The sandbox API behind the admin token: required when the server has one, and required to have
// one on an address other than loopback; wrong tokens limited; a full disk answered 503.
import { describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { ConfigError, defaultConfig, loadConfig } from '../../src/server/config.js';
import { openDatabase, pragma } from '../../src/server/database.js';
import { sandboxValidator } from '../../src/spec/sandbox-document.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';

const token = 'admin-token-0123456789abcdef';
const asResponse = (answer: { statusCode: number; headers: Record<string, unknown>; body: string }) =>
  new Response(answer.body, { status: answer.statusCode, headers: answer.headers as Record<string, string> });

describe('with an admin token', () => {
  const { app } = buildApp({ config: { ...defaultConfig, adminToken: token, logLevel: 'silent' }, db: openDatabase(':memory:') });

  test.each([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${token.slice(0, -1)}x`],
    ['the token in another scheme', `Basic ${token}`],
  ])('%s gets 401 unauthorized with WWW-Authenticate, for reads and writes alike', async (_what, authorization) => {
    for (const [method, url] of [['GET', '/sandbox/tasks'], ['PUT', '/sandbox/projects/a/p'], ['POST', '/sandbox/tasks/1/stop']] as const) {
      const answer = await app.inject({ method, url, headers: { 'content-type': 'application/json', ...(authorization && { authorization }) }, payload: method === 'GET' ? undefined : { sign_key: 'k' } });
      expect(answer.statusCode, `${method} ${url}`).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(answer.json()).toMatchObject({ code: 'unauthorized' });
      expect(answer.body).not.toContain(token);
    }
    const answer = await app.inject({ method: 'GET', url: '/sandbox/tasks', headers: authorization ? { authorization } : {} });
    expect(await responseProblems('GET', '/sandbox/tasks', asResponse(answer), sandboxValidator)).toEqual([]);
  });

  test.each(['Bearer', 'bearer', 'BEARER'])('the right token gets in, its scheme written %s (schemes are case-insensitive)', async (scheme) => {
    const answer = await app.inject({ method: 'GET', url: '/sandbox/tasks', headers: { authorization: `${scheme} ${token}` } });
    expect(answer.statusCode).toBe(200);
  });

  test('the public API does not ask for it', async () => {
    const answer = await app.inject({ method: 'POST', url: '/v1/cloudRecord', headers: { 'content-type': 'application/json' }, payload: { app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k' } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ code: 'invalid_credentials' });
  });
});

describe('wrong admin tokens', () => {
  test('are limited per address: past failedAuthPerMin a minute, 429 with Retry-After, even for the right token', async () => {
    const { app } = buildApp({ config: { ...defaultConfig, adminToken: token, failedAuthPerMin: 3, logLevel: 'silent' }, db: openDatabase(':memory:') });
    const get = (authorization: string, remoteAddress = '203.0.113.7') => app.inject({ method: 'GET', url: '/sandbox/tasks', remoteAddress, headers: { authorization } });
    const wrong = [];
    for (let i = 0; i < 4; i++) wrong.push(await get(`Bearer wrong-token-${i}-0123456789`));
    expect(wrong.map((a) => a.statusCode)).toEqual([401, 401, 401, 429]);
    const limited = await get(`Bearer ${token}`);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/wrong admin token from this address/) });
    expect(await responseProblems('GET', '/sandbox/tasks', asResponse(limited), sandboxValidator)).toEqual([]);
    // Another address is not held back by this one's tries.
    expect((await get(`Bearer ${token}`, '198.51.100.9')).statusCode).toBe(200);
  });
});

describe('a sandbox write the disk cannot take', () => {
  test('gets 503 service_unavailable with Retry-After, and reads go on', async () => {
    const db = openDatabase(':memory:');
    const { app } = buildApp({ config: { ...defaultConfig, logLevel: 'silent' }, db });
    // A database that cannot grow: SQLite answers SQLITE_FULL, as on a full disk.
    pragma(db, `max_page_count = ${Number(pragma(db, 'page_count'))}`);
    let answer;
    for (let i = 0; i < 200 && (!answer || answer.statusCode === 200); i++) {
      answer = await app.inject({ method: 'PUT', url: `/sandbox/projects/app/project-${i}`, headers: { 'content-type': 'application/json' }, payload: { sign_key: 'k'.repeat(200) } });
    }
    expect(answer!.statusCode).toBe(503);
    expect(answer!.headers['retry-after']).toBe('30');
    expect(answer!.json()).toEqual({ code: 'service_unavailable', message: 'The service cannot store changes now: its disk is full. Retry after 30 seconds.' });
    expect(await responseProblems('PUT', '/sandbox/projects/{app_id}/{project_id}', asResponse(answer!), sandboxValidator)).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/sandbox/tasks' })).statusCode).toBe(200);
  });
});

describe('the configuration', () => {
  test('refuses to serve the sandbox on a non-loopback address without a token, naming the setting', () => {
    expect(() => loadConfig({ CLOUDREC_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLOUDREC_HOST: '0.0.0.0' })).toThrow(/^CLOUDREC_ADMIN_TOKEN: required when the sandbox API is served on 0\.0\.0\.0/);
    expect(loadConfig({ CLOUDREC_HOST: '0.0.0.0', CLOUDREC_ADMIN_TOKEN: token }).adminToken).toBe(token);
    expect(loadConfig({ CLOUDREC_HOST: '0.0.0.0', CLOUDREC_SANDBOX: 'off' }).host).toBe('0.0.0.0');
    expect(loadConfig({ CLOUDREC_HOST: '127.0.0.1' }).adminToken).toBe('');
  });

  test('refuses a short token without echoing it', () => {
    expect(() => loadConfig({ CLOUDREC_ADMIN_TOKEN: 'short' })).toThrow(/^CLOUDREC_ADMIN_TOKEN: must be at least 16 characters, without spaces$/);
  });
});
