// Slow and idle clients cannot hold the server: headers must arrive in time, connections are
// capped, and a shutdown ends by its deadline, refusing the starts that arrive meanwhile.
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, expect, test } from 'vitest';
import { arrangeProject, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';

const ids = { app_id: 'slow-app', project_id: 'slow-proj', sign_key: 'slow-key', channel: 'slow-room' };
const servers: ReferenceServer[] = [];
afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    server.remove();
  }
});

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Opens `count` connections that send half a request line and then nothing. */
function slowClients(port: number, count: number): Socket[] {
  return Array.from({ length: count }, () => {
    const socket = connect(port, '127.0.0.1', () => socket.write('POST /v1/cloudRecord HTTP/1.1\r\nHost: x\r\n'));
    socket.on('error', () => {});
    socket.resume(); // reads (and drops) what the server answers, so its close is seen
    return socket;
  });
}

test('600 slow connections: the cap holds the file descriptors, the header timeout frees them, a normal request is then served', async () => {
  const server = await startReferenceServer({ CLOUDREC_REQUEST_TIMEOUT_SEC: '3', CLOUDREC_MAX_CONNECTIONS: '100' }, undefined, { compiled: true });
  servers.push(server);
  const pid = server.process.child.pid!;
  const port = Number(new URL(server.baseUrl).port);
  const before = openFds(pid);
  const sockets = slowClients(port, 600);
  await new Promise((r) => setTimeout(r, 1_500));
  const during = openFds(pid);
  console.log(`server fds: ${before} before, ${during} with 600 slow clients (cap 100)`);
  expect(during - before).toBeLessThanOrEqual(110);
  // The 3 s header timeout, checked every second, then a second for each answer to go out.
  const isClosed = (s: Socket) => s.destroyed || s.readyState === 'closed';
  const since = Date.now();
  while (sockets.some((s) => !isClosed(s)) && Date.now() - since < 10_000) await new Promise((r) => setTimeout(r, 100));
  const closed = sockets.filter(isClosed).length;
  const after = openFds(pid);
  console.log(`${((Date.now() - since) / 1000 + 1.5).toFixed(1)} s after they connected: ${closed} of 600 slow connections closed, server fds ${after}`);
  expect(closed).toBe(600);
  const answer = await fetch(`${server.baseUrl}/sandbox/tasks`);
  expect(answer.status).toBe(200);
});

test('SIGTERM with a client that never finishes its request: the process exits by the deadline, and a start meanwhile gets 503', async () => {
  const server = await startReferenceServer({ CLOUDREC_SHUTDOWN_TIMEOUT_SEC: '2', CLOUDREC_REQUEST_TIMEOUT_SEC: '60' }, undefined, { compiled: true });
  servers.push(server);
  await arrangeProject(server.baseUrl, { ...ids, uids: [1] });
  const port = Number(new URL(server.baseUrl).port);
  const [stuck] = slowClients(port, 1);
  // A start whose body is half sent when the signal comes, and finished during the shutdown.
  const body = JSON.stringify(ids);
  const start = connect(port, '127.0.0.1');
  let answer = '';
  start.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  await new Promise((r) => start.once('connect', r));
  start.write(`POST /v1/cloudRecord HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await new Promise((r) => setTimeout(r, 300));
  const exited = new Promise<number>((resolve) => server.process.child.once('exit', () => resolve(Date.now())));
  const signalled = Date.now();
  process.kill(server.process.child.pid!, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  start.write(body.slice(10));
  for (let i = 0; i < 50 && !answer.includes('\r\n\r\n{'); i++) await new Promise((r) => setTimeout(r, 20));
  const [head = '', json = ''] = answer.split('\r\n\r\n');
  console.log(`a start finished 0.2 s into the shutdown: ${head.split('\r\n')[0]} ${json}`);
  const took = (await exited) - signalled;
  console.log(`exited ${took} ms after SIGTERM with a request still open (deadline 2 s)`);
  expect(took).toBeLessThan(4_000);
  expect(head).toMatch(/^HTTP\/1\.1 503/);
  expect(head.toLowerCase()).toContain('retry-after: 30');
  expect(JSON.parse(json)).toMatchObject({ code: 'service_unavailable', message: expect.stringMatching(/shutting down/) });
  stuck!.destroy();
  start.destroy();
});
