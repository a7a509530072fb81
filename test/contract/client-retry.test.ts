// Why retrying a start is safe, shown against the reference server: the answer to a start is lost
// on the way back (a proxy drops the connection after the server has answered), the client tries
// again, and the server answers the identical repeat with the same task: one recording, not two.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient } from '../../src/index.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { arrangeProject, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';

const ids = { app_id: 'retry-app', project_id: 'retry-proj', sign_key: 'retry-secret-key', channel: 'retry-room' };

let server: ReferenceServer;
let lossyProxy: TestHttpServer;
beforeAll(async () => {
  server = await startReferenceServer();
  await arrangeProject(server.baseUrl, { ...ids, uids: [7] });
  let forwarded = 0;
  lossyProxy = await startHttpServer((req, res) => {
    void (async () => {
      const answer = await fetch(`${server.baseUrl}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.body });
      const text = await answer.text();
      // The first answer never reaches the client: the connection is cut once the server has answered.
      if (++forwarded === 1) return res.socket?.destroy();
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '', 'x-request-id': answer.headers.get('x-request-id') ?? '' }).end(text);
    })();
  });
}, 60_000);
afterAll(async () => {
  await lossyProxy?.close();
  await server?.stop();
  server?.remove();
});

test('a start whose answer was lost is retried and gives the one task the server made', async () => {
  const result = await createClient({ baseUrl: lossyProxy.url }).startRecording(ids);
  expect(result).toMatchObject({ ok: true, attempts: 2 });
  expect(lossyProxy.requests).toHaveLength(2);
  const { tasks } = (await sandbox(server.baseUrl, 'GET', '/sandbox/tasks')) as { tasks: { task_id: number; channel: string }[] };
  const recording = tasks.filter((t) => t.channel === ids.channel);
  expect(recording.map((t) => t.task_id)).toEqual([result.ok ? result.data.task_id : -1]);
});
