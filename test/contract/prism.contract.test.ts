// The contract suite against a real Prism process serving the spec: every documented failure is
// asked for with Prism's Prefer header.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StartRecordingRequest } from '../../src/index.js';
import { startPrism } from '../support/prism.js';
import { documentedFailures, responseProblems } from '../../src/conformance/exchange-check.js';
import { describeContract, type Arrangement } from './suite.js';

const body: StartRecordingRequest = { app_id: 'app-1', project_id: 'proj-1', channel: 'demo-room', sign_key: 'k' };
let prism: Awaited<ReturnType<typeof startPrism>>;
beforeAll(async () => {
  prism = await startPrism();
});
afterAll(async () => {
  await prism?.process.stop();
});

describeContract('the Prism mock', {
  baseUrl: () => prism.baseUrl,
  success: async () => ({ kind: 'client', body }),
  failures: Object.fromEntries(
    documentedFailures('/v1/cloudRecord', 'post').map(({ status, name }) => [
      name,
      async (): Promise<Arrangement> => ({ kind: 'client', body, headers: { Prefer: `code=${status}, example=${name}` } }),
    ]),
  ),
});

test('the Prism mock rejects an invalid body with a 400 in the spec shape, naming the violation in sl-violations', async () => {
  const response = await fetch(`${prism.baseUrl}/v1/cloudRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, isAudioonly: 1 }),
  });
  expect(response.status).toBe(400);
  expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
  expect(response.headers.get('sl-violations')).toContain('isAudioonly');
});
