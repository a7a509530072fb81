import { describe, expect, test } from 'vitest';
import { apiVersion } from '../generated/response-rules.js';
import { createClient, isApiError, type StartRecordingRequest } from '../src/index.js';
import { apiValidator } from '../src/spec/api-document.js';
import { freePort } from './support/free-port.js';
import { startHttpServer } from './support/http-server.js';
import { documentedFailures, requestProblems } from '../src/conformance/exchange-check.js';

const body: StartRecordingRequest = { app_id: 'app-1', project_id: 'proj-1', channel: 'room 1', sign_key: 'secret' };
const success = { code: 'success', task_id: 40 };

/** A fetch that records what the client sent and answers each call with the next of `answers` (the last repeats). */
function scriptedFetch(...answers: { status: number; body: unknown; headers?: Record<string, string> }[]) {
  const sent: Request[] = [];
  const fetch = async (request: Request) => {
    sent.push(request.clone());
    const { status, body: answer, headers } = answers[Math.min(sent.length, answers.length) - 1]!;
    const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
    return new Response(text, { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return { sent, fetch };
}

const requestPointer = '/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/examples';
const requestExamples = Object.keys(apiValidator.resolve(requestPointer).value as object).map((name) => ({
  name,
  value: (apiValidator.resolve(`${requestPointer}/${name}`).value as { value: StartRecordingRequest }).value,
}));

describe('the client sends', () => {
  test.each(requestExamples)('the $name request example as the spec describes it', async ({ value }) => {
    const { sent, fetch } = scriptedFetch({ status: 200, body: success });
    await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(value);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('POST');
    expect(new URL(sent[0]!.url).pathname).toBe('/v1/cloudRecord');
    expect(await requestProblems(sent[0]!)).toEqual([]);
    expect(JSON.parse(await sent[0]!.text())).toEqual(value);
  });

  test('the common query in the URL and the body once, with its length, not chunked', async () => {
    const server = await startHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(success)));
    try {
      const client = createClient({ baseUrl: server.url, query: { region: 'cn-east', ts: 1700000000 }, headers: { 'x-request-source': 'test' } });
      expect((await client.startRecording(body)).ok).toBe(true);
      const [seen] = server.requests;
      expect(seen!.url).toBe('/v1/cloudRecord?region=cn-east&ts=1700000000');
      expect(seen!.headers['transfer-encoding']).toBeUndefined();
      expect(seen!.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(body))));
      expect(seen!.headers['content-type']).toBe('application/json');
      expect(seen!.headers['x-request-source']).toBe('test');
      expect(JSON.parse(seen!.body)).toEqual(body);
    } finally {
      await server.close();
    }
  });

  test('a User-Agent naming the client and Node versions, which a header option replaces', async () => {
    const server = await startHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(success)));
    try {
      await createClient({ baseUrl: server.url }).startRecording(body);
      await createClient({ baseUrl: server.url, headers: { 'User-Agent': 'mine/1' } }).startRecording(body);
      expect(server.requests.map((r) => r.headers['user-agent'])).toEqual([`cloudrec/${apiVersion} node/${process.versions.node}`, 'mine/1']);
    } finally {
      await server.close();
    }
  });
});

describe('the client classifies answers by the spec', () => {
  test('a 200 with the success body is ok, with the response, the request id and one attempt', async () => {
    const { fetch } = scriptedFetch({ status: 200, body: success, headers: { 'x-request-id': 'req-7' } });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toMatchObject({ ok: true, kind: 'success', status: 200, data: success, attempts: 1, requestId: 'req-7' });
    expect(result.response?.headers.get('content-type')).toBe('application/json');
  });

  test.each(documentedFailures('/v1/cloudRecord', 'post'))('the documented $name error of a $status answer is an api error', async ({ status, value }) => {
    const { fetch } = scriptedFetch({ status, body: value, headers: { 'retry-after': '1' } });
    const result = await createClient({ baseUrl: 'http://api.test', fetch, maxRetries: 0 }).startRecording(body);
    expect(result).toMatchObject({ ok: false, kind: 'api', status, error: value, attempts: 1 });
    expect(isApiError(value)).toBe(true);
  });

  test.each([
    { why: 'a 200 whose task_id is a string', status: 200, text: '{"task_id":"x"}' },
    { why: 'a 200 without task_id', status: 200, text: '{"code":"success"}' },
    { why: 'a 200 with task_id 0', status: 200, text: '{"code":"success","task_id":0}' },
    { why: 'a 200 with a field the spec does not have', status: 200, text: '{"code":"success","task_id":1,"extra":true}' },
    { why: 'a 200 HTML page', status: 200, text: '<html>Welcome</html>' },
    { why: 'a 200 with an empty body', status: 200, text: '' },
    { why: 'a 409 carrying a code the spec gives only to 400', status: 409, text: '{"code":"invalid_parameter","message":"x"}' },
    { why: 'a 400 with a code the spec does not have', status: 400, text: '{"code":"no_such_code","message":"x"}' },
    { why: 'a 401 with an empty message', status: 401, text: '{"code":"invalid_credentials","message":""}' },
    { why: 'a status the spec does not document', status: 404, text: '{"code":"channel_empty","message":"x"}' },
    { why: "a gateway's error page", status: 502, text: '<html>Bad Gateway</html>' },
  ])('$why is unexpected-response, with the status and the raw text', async ({ status, text }) => {
    const { fetch } = scriptedFetch({ status, body: text });
    const result = await createClient({ baseUrl: 'http://api.test', fetch, maxRetries: 0 }).startRecording(body);
    expect(result).toMatchObject({ ok: false, kind: 'unexpected-response', status, text, attempts: 1 });
  });

  test('a refused connection is a network failure whose message names the cause, tried 1 + maxRetries times', async () => {
    const port = await freePort(); // nothing listens there
    const result = await createClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 }).startRecording(body);
    expect(result).toMatchObject({ ok: false, kind: 'network', attempts: 2, requestId: undefined });
    expect(result.ok === false && 'error' in result && result.error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });
});

describe('timeouts and cancellation', () => {
  test('a server that never answers ends the call with kind timeout after timeoutMs, each attempt', async () => {
    const server = await startHttpServer(() => {}); // reads the request, never answers
    try {
      const result = await createClient({ baseUrl: server.url, timeoutMs: 200 }).startRecording(body, { maxRetries: 1 });
      expect(result).toMatchObject({ ok: false, kind: 'timeout', attempts: 2 });
      expect(result.ok === false && 'error' in result && result.error.message).toMatch(/within 200 ms/);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test('the per-call timeoutMs overrides the client default', async () => {
    const server = await startHttpServer(() => {});
    try {
      const result = await createClient({ baseUrl: server.url, timeoutMs: 60_000, maxRetries: 0 }).startRecording(body, { timeoutMs: 100 });
      expect(result).toMatchObject({ ok: false, kind: 'timeout', attempts: 1 });
    } finally {
      await server.close();
    }
  });

  test('aborting the signal ends a call that is waiting for its answer, with kind aborted and no retry', async () => {
    const server = await startHttpServer(() => {});
    try {
      const controller = new AbortController();
      const call = createClient({ baseUrl: server.url }).startRecording(body, { signal: controller.signal });
      while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
      controller.abort(new Error('user gave up'));
      expect(await call).toMatchObject({ ok: false, kind: 'aborted', attempts: 1, error: { message: 'user gave up' } });
    } finally {
      await server.close();
    }
  });

  test('aborting the signal ends the wait before a retry', async () => {
    const { sent, fetch } = scriptedFetch({ status: 503, body: '' });
    const controller = new AbortController();
    const call = createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body, { signal: controller.signal });
    while (sent.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await call).toMatchObject({ ok: false, kind: 'aborted', attempts: 1 });
    expect(sent).toHaveLength(1);
  });

  test('an already aborted signal sends nothing, and says so: no attempt', async () => {
    const { sent, fetch } = scriptedFetch({ status: 200, body: success });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body, { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ ok: false, kind: 'aborted', attempts: 0, requestId: undefined });
    expect(sent).toHaveLength(0);
  });
});

describe('retries', () => {
  test.each([408, 500, 502, 503, 504])('a %i is retried, and the answer after it returned', async (status) => {
    const failure = status === 500 ? { code: 'internal_error', message: 'x' } : status === 408 ? { code: 'request_timeout', message: 'x' } : '';
    const { sent, fetch } = scriptedFetch({ status, body: failure }, { status: 200, body: success });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toMatchObject({ ok: true, data: success, attempts: 2 });
    expect(sent).toHaveLength(2);
  });

  test('a 429 is retried after the seconds of its Retry-After', async () => {
    const limited = { status: 429, body: { code: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '1' } };
    const { sent, fetch } = scriptedFetch(limited, { status: 200, body: success });
    const started = Date.now();
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sent).toHaveLength(2);
  });

  test('a 429 whose Retry-After is beyond the longest wait is returned at once', async () => {
    const limited = { status: 429, body: { code: 'rate_limited', message: 'come back later' }, headers: { 'retry-after': '3600' } };
    const { sent, fetch } = scriptedFetch(limited, { status: 200, body: success });
    const result = await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body);
    expect(result).toMatchObject({ ok: false, kind: 'api', status: 429, attempts: 1 });
    expect(sent).toHaveLength(1);
  });

  test('the other answers are final: a 400, a 401, a 409 are not retried', async () => {
    for (const [status, code] of [[400, 'invalid_parameter'], [401, 'invalid_credentials'], [409, 'channel_empty']] as const) {
      const { sent, fetch } = scriptedFetch({ status, body: { code, message: 'x' } });
      expect(await createClient({ baseUrl: 'http://api.test', fetch }).startRecording(body)).toMatchObject({ kind: 'api', attempts: 1 });
      expect(sent).toHaveLength(1);
    }
  });

  test('maxRetries 0 turns retries off; a per-call maxRetries overrides the client', async () => {
    const { sent, fetch } = scriptedFetch({ status: 503, body: '' });
    const client = createClient({ baseUrl: 'http://api.test', fetch, maxRetries: 0 });
    expect(await client.startRecording(body)).toMatchObject({ kind: 'unexpected-response', status: 503, attempts: 1 });
    expect(await client.startRecording(body, { maxRetries: 1 })).toMatchObject({ kind: 'unexpected-response', status: 503, attempts: 2 });
    expect(sent).toHaveLength(3);
  });
});
