// POST /v1/cloudRecord over a real socket, where it is answered in front of Fastify
// (start-endpoint.ts): the same answers as the Fastify route gives, the body read whole and
// limited, the request id and log line, and a bug answered in the spec's shape.
import { connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/database.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';

const signKey = 'ключ-密钥-key';
const ids = { app_id: 'app-1', project_id: 'proj-1', channel: 'room-1', sign_key: signKey };

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

/** A listening app with a ready project and one user in `room-1`; its log lines kept. */
async function listeningApp(options: Partial<AppOptions> = {}) {
  const lines: string[] = [];
  const built = buildApp({ config: defaultConfig, db: openDatabase(':memory:'), logStream: { write: (line) => void lines.push(line) }, ...options });
  open.push(built.app);
  const storage = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'b', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true };
  built.projects.put(ids.app_id, ids.project_id, { sign_key: signKey, recording_enabled: true, storage });
  built.channels.join(ids.app_id, ids.channel, 1001, { audio: true, video: true, dual_stream: false });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = built.app.server.address() as { port: number };
  return { ...built, port, url: `http://127.0.0.1:${port}`, logged: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Sends `raw` on a new connection, in the pieces given, and resolves with the answer once the server closes it. */
function exchange(port: number, pieces: (string | Buffer)[]): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      resolve({ status: Number(statusLine.split(' ')[1]), headers: new Headers(headerLines.map((l) => l.split(/:\s*/, 2) as [string, string])), text: rest.join('\r\n\r\n') });
    });
  });
}

const requestHead = (headers: string) => `POST /v1/cloudRecord HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${headers}\r\n`;

describe('the start endpoint in front of Fastify', () => {
  test('answers every kind of start exactly as the Fastify route does', async () => {
    const { url } = await listeningApp();
    const json = { 'content-type': 'application/json' };
    const requests: [string, RequestInit][] = [
      ['a new task', { headers: json, body: JSON.stringify(ids) }],
      ['its identical repeat', { headers: json, body: JSON.stringify(ids) }],
      ['other settings for the channel', { headers: json, body: JSON.stringify({ ...ids, layout_mode: 2 }) }],
      ['an empty channel', { headers: json, body: JSON.stringify({ ...ids, channel: 'nobody-here' }) }],
      ['an invalid field', { headers: json, body: JSON.stringify({ ...ids, layout_mode: 7 }) }],
      ['both only-flags', { headers: json, body: JSON.stringify({ ...ids, isAudioOnly: 1, isVideoOnly: 1 }) }],
      ['a wrong sign_key', { headers: json, body: JSON.stringify({ ...ids, sign_key: 'wrong' }) }],
      ['a body that is not JSON', { headers: json, body: '{"app_id":' }],
      ['an empty body', { headers: json, body: '' }],
      ['a body of text/plain', { headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ['a body over the limit', { headers: json, body: `"${'x'.repeat(70_000)}"` }],
    ];
    // `/v1/cloud%52ecord` is the same path to Fastify's router, which decodes it; the endpoint in
    // front takes only the path as written, so this reaches the Fastify route.
    for (const [what, init] of requests) {
      const direct = await fetch(`${url}/v1/cloudRecord`, { method: 'POST', ...init });
      const routed = await fetch(`${url}/v1/cloud%52ecord`, { method: 'POST', ...init });
      const answers = [direct, routed].map(async (answer) => ({
        status: answer.status,
        body: await answer.clone().json(),
        type: answer.headers.get('content-type'),
        retryAfter: answer.headers.get('retry-after'),
        problems: await responseProblems('POST', '/v1/cloudRecord', answer),
      }));
      const [fromEndpoint, fromRoute] = await Promise.all(answers);
      expect(fromEndpoint, what).toEqual(fromRoute);
      expect(fromEndpoint!.problems, what).toEqual([]);
    }
  });

  test('reads a chunked body whole, a character split between two chunks included', async () => {
    const { port } = await listeningApp();
    const body = Buffer.from(JSON.stringify(ids));
    const split = body.indexOf(Buffer.from('密')) + 1;
    const chunk = (part: Buffer) => Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
    const answer = await exchange(port, [requestHead('Transfer-Encoding: chunked\r\n'), chunk(body.subarray(0, split)), chunk(body.subarray(split)), '0\r\n\r\n']);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'success', task_id: expect.any(Number) });
  });

  test('answers a body over the limit with 413 body_too_large, whether its length is declared or not', async () => {
    const { port } = await listeningApp();
    const big = `{"app_id":"${'x'.repeat(70_000)}"}`;
    const declared = await exchange(port, [requestHead(`Content-Length: ${big.length}\r\n`), big]);
    const chunked = await exchange(port, [requestHead('Transfer-Encoding: chunked\r\n'), `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`]);
    for (const answer of [declared, chunked]) {
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ code: 'body_too_large', message: 'The request body is larger than 65536 bytes.' });
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('goes on answering after a client goes away in the middle of its body', async () => {
    const { port, url } = await listeningApp();
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`${requestHead('Content-Length: 100\r\n')}{"app_id":`);
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 50));
    const next = await fetch(`${url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ids) });
    expect(next.status).toBe(200);
  });

  test("logs each start in one line under its X-Request-Id, the caller's own when it is a safe token", async () => {
    const { url, logged } = await listeningApp();
    const start = (requestId?: string) =>
      fetch(`${url}/v1/cloudRecord?trace=1`, { method: 'POST', headers: { 'content-type': 'application/json', ...(requestId && { 'x-request-id': requestId }) }, body: JSON.stringify(ids) });
    const answers = [await start('trace-42.a:b_c'), await start('has space'), await start()];
    const sent = answers.map((a) => a.headers.get('x-request-id'));
    expect(sent[0]).toBe('trace-42.a:b_c');
    expect(sent.slice(1)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    const lines = logged().filter((l) => l.msg === 'request');
    expect(lines.map((l) => l.request_id)).toEqual(sent);
    const taskId = ((await answers[0]!.json()) as { task_id: number }).task_id;
    for (const line of lines) expect(line).toMatchObject({ method: 'POST', path: '/v1/cloudRecord', status: 200, task_id: taskId, ms: expect.any(Number) });
    expect(JSON.stringify(logged())).not.toContain('ключ');
  });

  test('answers a bug with 500 internal_error in the spec shape, logs it, and goes on answering', async () => {
    const { url, logged } = await listeningApp({
      storageProblems: () => {
        throw new Error('a bug in the storage check');
      },
    });
    const answer = await fetch(`${url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ids) });
    expect(answer.status).toBe(500);
    expect(await responseProblems('POST', '/v1/cloudRecord', answer.clone())).toEqual([]);
    expect(await answer.json()).toEqual({ code: 'internal_error', message: 'The service failed; retry the request.' });
    const error = logged().find((l) => l.msg === 'unhandled error');
    expect(error).toMatchObject({ request_id: answer.headers.get('x-request-id') });
    const next = await fetch(`${url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(next.status).toBe(400);
  });
});
