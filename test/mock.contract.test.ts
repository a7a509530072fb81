// The client against a real Prism process serving the spec: the success and every documented
// failure (asked for with Prism's Prefer header), every answer checked against the spec.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient, type StartRecordingRequest } from '../src/index.js';
import { startPrism } from './support/prism.js';
import { documentedFailures, requestProblems, responseProblems } from './support/spec-contract.js';

const body: StartRecordingRequest = { app_id: 'app-1', project_id: 'proj-1', channel: 'demo-room', sign_key: 'k' };
let prism: Awaited<ReturnType<typeof startPrism>>;

beforeAll(async () => {
  prism = await startPrism();
});
afterAll(async () => {
  await prism?.process.stop();
});

/** A fetch that sends for real and records each exchange. */
function recordingFetch() {
  const exchanges: { request: Request; response: Response }[] = [];
  const fetch = async (request: Request) => {
    const copy = request.clone();
    const response = await globalThis.fetch(request);
    exchanges.push({ request: copy, response: response.clone() });
    return response;
  };
  return { exchanges, fetch };
}

describe('the Prism mock', () => {
  test('answers a valid request with the success example, as the spec says', async () => {
    const { exchanges, fetch } = recordingFetch();
    const result = await createClient({ baseUrl: prism.baseUrl, fetch }).startRecording(body);
    expect(result).toEqual({ ok: true, status: 200, data: { code: 'success', task_id: 40 } });
    expect(await requestProblems(exchanges[0]!.request)).toEqual([]);
    expect(await responseProblems('POST', '/v1/cloudRecord', exchanges[0]!.response)).toEqual([]);
  });

  test.each(documentedFailures('/v1/cloudRecord', 'post'))(
    'serves the $name failure ($status) when asked, in the spec shape',
    async ({ status, name, value }) => {
      const { exchanges, fetch } = recordingFetch();
      const client = createClient({
        baseUrl: prism.baseUrl,
        fetch,
        headers: { Prefer: `code=${status}, example=${name}` },
      });
      const result = await client.startRecording(body);
      expect(result).toEqual({ ok: false, kind: 'api', status, error: value });
      expect(await responseProblems('POST', '/v1/cloudRecord', exchanges[0]!.response)).toEqual([]);
    },
  );

  test('rejects an invalid body with a 400 in the spec shape', async () => {
    const response = await fetch(`${prism.baseUrl}/v1/cloudRecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, isAudioonly: 1 }),
    });
    expect(response.status).toBe(400);
    expect(await responseProblems('POST', '/v1/cloudRecord', response)).toEqual([]);
    // Prism names the actual violation only in this header (toolchain.md, trap 4).
    expect(response.headers.get('sl-violations')).toContain('isAudioonly');
  });
});
