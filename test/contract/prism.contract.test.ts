// The conformance checks against a real Prism process serving the spec. Prism checks requests
// against the schema and answers from the examples, so it passes what a schema can say and fails,
// by design, what needs the API's own logic: those checks are listed here and in the README, and
// the mock profile (`--profile mock`) leaves them out and says so.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { documentedFailures, responseProblems } from '../../src/conformance/exchange-check.js';
import { runConformance } from '../../src/conformance/index.js';
import { startPrism } from '../support/prism.js';

let prism: Awaited<ReturnType<typeof startPrism>>;
beforeAll(async () => {
  prism = await startPrism();
});
afterAll(async () => {
  await prism?.process.stop();
});

/** What the mock does not reproduce, each a conformance check it fails, and why. */
const mockLimits: Record<string, string> = {
  'mixResolution.odd-side': 'the numeric limits of mixResolution are beyond its pattern',
  'mixResolution.min-side': 'the same',
  'mixResolution.max-side': 'the same',
  'mixResolution.max-pixels': 'the same',
  'mixResolution.max-kbps': 'the same',
  'audio-only-and-video-only': 'every invalid body gets the first 400 example (invalid_parameter)',
  'body.malformed-json': 'Prism answers unparsable JSON in its own shape, without X-Request-Id',
  'body.not-an-object': 'answered invalid_parameter, the first 400 example',
  'body.too-large': 'Prism has no body limit; the long channel is a 400',
  'content-type.missing': 'a body without Content-Type is a 400',
  'credentials.unknown': 'Prism knows no projects: every valid request succeeds',
  'generated.valid': 'the same',
  'generated.one-rule-broken': 'the exclusion of audio-only and video-only gets invalid_parameter',
  'generated.not-a-request': 'other content types than JSON get a 400, not 415',
  'request-id.echoed': "Prism answers with its example's headers, not the caller's X-Request-Id",
  'not-found.path': 'Prism answers paths outside the spec in its own shape',
  'not-found.method': 'the same',
};

/** Checks the mock profile runs though the server profile fails them on Prism: the mock profile judges their status, not their code. */
const judgedByStatus = ['audio-only-and-video-only', 'body.not-an-object', 'generated.valid', 'generated.one-rule-broken', 'generated.not-a-request'];

test('the Prism mock conforms to the mock profile, which lists what it left out and why', async () => {
  const report = await runConformance({ baseUrl: prism.baseUrl, seed: 20261202, runs: 200, profile: 'mock' });
  expect(report.results.filter((r) => r.outcome !== 'passed')).toEqual([]);
  expect(report.summary.passed).toBeGreaterThan(40);
  const leftOut = report.notChecked.filter((n) => n.why.startsWith('not in the mock profile')).map((n) => n.id);
  // Every check the mock fails in the server profile is either left out or judged by its status only.
  expect([...leftOut, ...judgedByStatus]).toEqual(expect.arrayContaining(Object.keys(mockLimits)));
  expect(leftOut).toEqual(expect.arrayContaining(['credentials.identical-repeat', 'rate-limit.burst', 'precondition.empty-channel']));
  expect(leftOut).not.toContain('layout_mode.enum');
});

test('the Prism mock fails exactly the conformance checks that need the API itself', async () => {
  const report = await runConformance({ baseUrl: prism.baseUrl, seed: 20261202, runs: 200 });
  expect(report.results.filter((r) => r.outcome === 'failed').map((r) => r.id).sort()).toEqual(Object.keys(mockLimits).sort());
  // What it answers otherwise keeps the spec: every request rule but those is a 400 in the spec's shape.
  expect(report.summary.passed).toBeGreaterThan(40);
});

test.each(documentedFailures('/v1/cloudRecord', 'post'))('the Prism mock answers Prefer: code=$status, example=$name with that example, in the spec', async ({ status, name, value }) => {
  const response = await fetch(`${prism.baseUrl}/v1/cloudRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Prefer: `code=${status}, example=${name}` },
    body: JSON.stringify({ app_id: 'app-1', project_id: 'proj-1', channel: 'demo-room', sign_key: 'k' }),
  });
  expect(response.status).toBe(status);
  expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
  expect(await response.json()).toEqual(value);
});

test('the Prism mock rejects an invalid body with a 400 in the spec shape, naming the violation in sl-violations', async () => {
  const response = await fetch(`${prism.baseUrl}/v1/cloudRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: 'app-1', project_id: 'proj-1', channel: 'demo-room', sign_key: 'k', isAudioonly: 1 }),
  });
  expect(response.status).toBe(400);
  expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
  expect(response.headers.get('sl-violations')).toContain('isAudioonly');
});
