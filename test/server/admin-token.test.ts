// The sandbox API behind the admin token: required when the server has one, and required to have
// one on an address other than loopback.
import { describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { ConfigError, defaultConfig, loadConfig } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/database.js';
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

  test('the right token gets in', async () => {
    const answer = await app.inject({ method: 'GET', url: '/sandbox/tasks', headers: { authorization: `Bearer ${token}` } });
    expect(answer.statusCode).toBe(200);
  });

  test('the public API does not ask for it', async () => {
    const answer = await app.inject({ method: 'POST', url: '/v1/cloudRecord', headers: { 'content-type': 'application/json' }, payload: { app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k' } });
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toMatchObject({ code: 'invalid_credentials' });
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
