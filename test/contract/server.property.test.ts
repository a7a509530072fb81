// Thousands of generated requests against the reference server as a real process: valid bodies
// (half of them with real credentials, so every precondition is reached), bodies that break one
// rule, and random JSON and non-JSON. Every answer is in the spec, never a 5xx, never a hang.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { brokenBody, validateRequest, validBody } from '../../src/conformance/request-arbitraries.js';
import { arrangeProject, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';
import { documentedFailures, responseProblems } from '../../src/conformance/exchange-check.js';

let server: ReferenceServer;
// Credentials of real projects: each reaches a different precondition.
const projects = {
  ready: { app_id: 'prop-app', project_id: 'ready', sign_key: 'key-ready', channel: 'busy-room', uids: [1001, 1002] },
  off: { app_id: 'prop-app', project_id: 'off', sign_key: 'key-off' },
  noStorage: { app_id: 'prop-app', project_id: 'no-storage', sign_key: 'key-no-storage' },
};
const channels = ['busy-room', 'empty-room', 'other-room'];

beforeAll(async () => {
  // The limit is the service's, not what this test is about: high enough never to be hit.
  server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '100000', CLOUDREC_FAILED_AUTH_PER_MIN: '1000000', CLOUDREC_LOG_LEVEL: 'warn' });
  await arrangeProject(server.baseUrl, projects.ready);
  await arrangeProject(server.baseUrl, { ...projects.off, uids: [] });
  await sandbox(server.baseUrl, 'PATCH', '/sandbox/projects/prop-app/off', { recording_enabled: false });
  await arrangeProject(server.baseUrl, { ...projects.noStorage, uids: [] }, null);
  await sandbox(server.baseUrl, 'PUT', '/sandbox/apps/prop-app/channels/other-room/users/7', { video: false });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
});

const post = (body: string, contentType = 'application/json') =>
  fetch(`${server.baseUrl}/v1/cloudRecord`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(10_000),
  });

/** Asserts the answer is documented for its status and conforms to the spec; returns its code. */
async function checkAnswer(response: Response): Promise<string | undefined> {
  expect(response.status).toBeLessThan(500);
  expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
  return response.status === 200 ? undefined : ((await response.json()) as { code: string }).code;
}

/** A valid body, sent with a real project's credentials and one of the arranged channels half the time. */
const validRequest = fc.tuple(validBody, fc.constantFrom(undefined, ...Object.values(projects)), fc.constantFrom(...channels)).map(
  ([body, project, channel]) => (project ? { ...body, app_id: project.app_id, project_id: project.project_id, sign_key: project.sign_key, channel } : body),
);

const preconditionCodes = new Set(documentedFailures('/v1/cloudRecord', 'post').filter((f) => f.status !== 400 && f.status !== 415).map((f) => f.value.code));

describe('the reference server, given generated requests', () => {
  test('answers every valid body with a spec-valid 200 or a documented precondition failure', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(validRequest, async (body) => {
        const code = (await checkAnswer(await post(JSON.stringify(body)))) ?? 'ok';
        seen.set(code, (seen.get(code) ?? 0) + 1);
        if (code !== 'ok') expect(preconditionCodes).toContain(code);
      }),
      { numRuns: 1500 },
    );
    // Every path through the guards was taken, or the arrangement above is broken.
    expect([...seen.keys()].sort()).toEqual(
      ['ok', 'invalid_credentials', 'recording_not_enabled', 'storage_not_configured', 'channel_empty', 'channel_already_recording'].sort(),
    );
  }, 120_000);

  test('answers every body that breaks one rule with a spec-valid 400', async () => {
    await fc.assert(
      fc.asyncProperty(brokenBody, async ({ body }) => {
        expect(validateRequest(body)).toBe(false);
        const response = await post(JSON.stringify(body));
        expect(response.status).toBe(400);
        await checkAnswer(response);
      }),
      { numRuns: 1500 },
    );
  }, 120_000);

  test('answers random JSON and non-JSON with a spec-valid 4xx', async () => {
    const randomBody = fc.oneof(
      fc.json().map((body) => ({ body, contentType: 'application/json' })),
      fc.string().map((body) => ({ body, contentType: 'application/json' })),
      fc.tuple(fc.string(), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', '')).map(([body, contentType]) => ({ body, contentType })),
    );
    await fc.assert(
      fc.asyncProperty(randomBody, async ({ body, contentType }) => {
        const response = await post(body, contentType);
        expect(response.status).toBeGreaterThanOrEqual(400);
        await checkAnswer(response);
      }),
      { numRuns: 1000 },
    );
  }, 120_000);
});
