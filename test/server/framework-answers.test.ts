// What the server answers before any route runs, over a real socket: every answer in the spec's
// shape, with a code the spec documents for its status.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiValidator } from '../../src/spec/api-document.js';
import { operationsValidator } from '../../src/spec/operations-document.js';
import { sandboxValidator } from '../../src/spec/sandbox-document.js';
import { startReferenceServer, type ReferenceServer } from '../support/reference-server.js';
import { responseProblems } from '../../src/conformance/exchange-check.js';

let server: ReferenceServer;
let port: number;
beforeAll(async () => {
  server = await startReferenceServer({ CLOUDREC_REQUEST_TIMEOUT_SEC: '2' }, undefined, { compiled: true });
  port = Number(new URL(server.baseUrl).port);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  server?.remove();
});

/** Sends `raw` bytes on a new connection; resolves with the parsed answer once the server closes it or answers in full. */
function exchange(raw: string, { waitMs = 0 } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => (waitMs ? setTimeout(() => socket.write(raw), 0) : socket.write(raw)));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = new Headers(headerLines.map((line) => line.split(/:\s*/, 2) as [string, string]));
      resolve(new Response(rest.join('\r\n\r\n'), { status: Number(statusLine.split(' ')[1]), headers }));
    });
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

const post = (extraHeaders: string, body = '{}') =>
  `POST /v1/cloudRecord HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${extraHeaders}\r\n${body}`;

describe('answers before any route runs', () => {
  test.each([
    ['a URL that is not validly percent-encoded', 'POST /v1/cloudRecord%ff HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', 400, 'malformed_request'],
    ['Content-Length with Transfer-Encoding', post('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n'), 400, 'malformed_request'],
    ['a bad request line', 'THIS IS NOT HTTP\r\n\r\n', 400, 'malformed_request'],
    ['an unknown method', 'BREW /v1/cloudRecord HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed_request'],
    ['a bad Content-Length', post('Content-Length: two\r\n'), 400, 'malformed_request'],
    ['a 64 KB header', post(`X-Big: ${'a'.repeat(65_536)}\r\nContent-Length: 2\r\n`), 431, 'headers_too_large'],
  ].map(([what, raw, status, code]) => ({ what, raw: raw as string, status: status as number, code })))('$what gets $status $code in the spec shape', async ({ raw, status, code }) => {
    const answer = await exchange(raw);
    expect(answer.status).toBe(status);
    expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await answer.clone().json()).toMatchObject({ code, message: expect.any(String) });
    expect(await responseProblems('POST', '/v1/cloudRecord', answer, apiValidator)).toEqual([]);
  });

  test('a body sent with GET to an operations endpoint is not read, so no size of it is refused (the spec documents no 413 there)', async () => {
    const answer = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n${'a'.repeat(70_000)}`);
    expect(answer.status).toBe(200);
    expect(await responseProblems('GET', '/healthz', answer, operationsValidator)).toEqual([]);
  });

  test('a request not sent in full in time gets 408 request_timeout', async () => {
    const answer = await new Promise<Response>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(post('Content-Length: 100\r\n', '{"app_id":')));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => {
        const [head = '', body = ''] = text.split('\r\n\r\n');
        const headers = new Headers(head.split('\r\n').slice(1).map((l) => l.split(/:\s*/, 2) as [string, string]));
        resolve(new Response(body, { status: Number(head.split(' ')[1]), headers }));
      });
    });
    expect(answer.status).toBe(408);
    expect(await responseProblems('POST', '/v1/cloudRecord', answer, apiValidator)).toEqual([]);
  }, 20_000);

  test('sandbox path parameters up to the 128 characters the spec allows are routed, not refused with 414', async () => {
    const appId = 'a'.repeat(128);
    const answer = await fetch(`${server.baseUrl}/sandbox/projects/${appId}/${'p'.repeat(128)}`);
    expect(answer.status).toBe(404);
    expect(await responseProblems('GET', '/sandbox/projects/{app_id}/{project_id}', answer, sandboxValidator)).toEqual([]);
    const tooLong = await fetch(`${server.baseUrl}/sandbox/projects/${'a'.repeat(1000)}/p`);
    expect(tooLong.status).toBe(400);
    expect(await responseProblems('GET', '/sandbox/projects/{app_id}/{project_id}', tooLong, sandboxValidator)).toEqual([]);
  });

  test('the sandbox answers a body that is not JSON with its documented 415 and 400', async () => {
    const notJson = await fetch(`${server.baseUrl}/sandbox/projects/a/p`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(notJson.status).toBe(415);
    expect(await responseProblems('PUT', '/sandbox/projects/{app_id}/{project_id}', notJson, sandboxValidator)).toEqual([]);
    const tooBig = await fetch(`${server.baseUrl}/sandbox/projects/a/p`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(70_000)}"` });
    expect(tooBig.status).toBe(413);
    expect(await responseProblems('PUT', '/sandbox/projects/{app_id}/{project_id}', tooBig, sandboxValidator)).toEqual([]);
  });
});
