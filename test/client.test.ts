import { describe, expect, test } from 'vitest';
import { createClient, type StartRecordingRequest } from '../src/index.js';
import { apiValidator } from '../src/spec/api-document.js';
import { freePort } from './support/free-port.js';
import { documentedFailures, requestProblems } from './support/spec-contract.js';

const body: StartRecordingRequest = { app_id: 'app-1', project_id: 'proj-1', channel: 'room 1', sign_key: 'secret' };

/** A fetch that records what the client sent and answers with a fixed response. */
function recordingFetch(status: number, answer: unknown, contentType = 'application/json') {
  const sent: Request[] = [];
  const fetch = async (request: Request) => {
    sent.push(request.clone());
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    return new Response(text, { status, headers: { 'content-type': contentType } });
  };
  return { sent, fetch };
}

const requestExamples = Object.entries(
  apiValidator.resolve('/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/examples').value as Record<
    string,
    unknown
  >,
).map(([name]) => ({
  name,
  value: (
    apiValidator.resolve(`/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/examples/${name}`)
      .value as { value: StartRecordingRequest }
  ).value,
}));

describe('the client', () => {
  test.each(requestExamples)('sends the $name request example as the spec describes it', async ({ value }) => {
    const { sent, fetch } = recordingFetch(200, { code: 'success', task_id: 7 });
    await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(value);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('POST');
    expect(new URL(sent[0]!.url).pathname).toBe('/v1/cloudRecord');
    expect(await requestProblems(sent[0]!)).toEqual([]);
    expect(JSON.parse(await sent[0]!.text())).toEqual(value);
  });

  test('returns the task of a 200 answer', async () => {
    const { fetch } = recordingFetch(200, { code: 'success', task_id: 40 });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toEqual({ ok: true, status: 200, data: { code: 'success', task_id: 40 } });
  });

  test.each(documentedFailures('/v1/cloudRecord', 'post'))(
    'returns the typed $name error of a $status answer, having sent a conforming request',
    async ({ status, value }) => {
      const { sent, fetch } = recordingFetch(status, value);
      const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
      expect(result).toEqual({ ok: false, kind: 'api', status, error: value });
      expect(await requestProblems(sent[0]!)).toEqual([]);
    },
  );

  test('attaches the common query parameters and headers to every request', async () => {
    const { sent, fetch } = recordingFetch(200, { code: 'success', task_id: 1 });
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch,
      query: { region: 'cn-east', ts: 1700000000 },
      headers: { 'x-request-source': 'test' },
    });
    await client.startRecording(body);
    await client.startRecording(body);
    for (const request of sent) {
      const url = new URL(request.url);
      expect(url.pathname).toBe('/v1/cloudRecord');
      expect(Object.fromEntries(url.searchParams)).toEqual({ region: 'cn-east', ts: '1700000000' });
      expect(request.headers.get('x-request-source')).toBe('test');
      expect(await requestProblems(request)).toEqual([]);
    }
  });

  test('reports a refused connection as a network failure, not an API error', async () => {
    const port = await freePort(); // nothing listens there
    const result = await createClient({ baseUrl: `http://127.0.0.1:${port}` }).startRecording(body);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.kind).toBe('network');
  });

  test('reports an answer outside the spec as unexpected-response', async () => {
    const { fetch } = recordingFetch(502, '<html>Bad Gateway</html>', 'text/html');
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toEqual({ ok: false, kind: 'unexpected-response', status: 502, body: '<html>Bad Gateway</html>' });
  });

  test('reports an error body with a code outside the spec as unexpected-response', async () => {
    const { fetch } = recordingFetch(400, { code: 'no_such_code', message: 'x' });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result.ok === false && result.kind).toBe('unexpected-response');
  });
});
