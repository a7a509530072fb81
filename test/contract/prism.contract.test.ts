// The conformance checks against a real Prism process serving the spec. Prism checks requests
// against the schema and answers from the examples, so it passes what a schema can say and fails,
// by design, what needs the API's own logic: those checks are listed here and in the README.
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
  'integer.written-1.0': 'the same',
  'generated.valid': 'the same',
  'generated.one-rule-broken': 'the exclusion of audio-only and video-only gets invalid_parameter',
  'generated.not-a-request': 'other content types than JSON get a 400, not 415',
  'request-id.echoed': "Prism answers with its example's headers, not the caller's X-Request-Id",
};

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
