// `cloudrec webhooks listen|send` as a user runs them: `send` posts each example event of the spec,
// signed, to a receiver (the listener, and a receiver written here that checks each event against
// the spec's schema); the listener says whether each signature holds and answers 204 or 400; send's
// exit code follows the answer (0 for a 2xx, 1 otherwise, 3 when nothing answers).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiValidator } from '../../src/spec/api-document.js';
import { verifyWebhook } from '../../src/webhooks.js';
import { freePort } from '../support/free-port.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { projectRoot } from '../support/prism.js';
import { startProcess, type RunningProcess } from '../support/process.js';

const secret = 'whsec_cli_test';
let listener: RunningProcess;
let listenerUrl: string;

const cloudrec = (args: string[]) =>
  promisify(execFile)(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), ...args], { encoding: 'utf8' }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

beforeAll(async () => {
  listener = await startProcess(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), 'webhooks', 'listen', '--secret', secret, '--port', '0'], {
    ready: /Listening for events on (http:\/\/127\.0\.0\.1:\d+\/)/,
  });
  listenerUrl = /Listening for events on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(listener.output())![1]!;
}, 30_000);
afterAll(async () => {
  await listener?.stop();
});

test('send delivers a signed example of each event; the listener says its signature holds and what it carries', async () => {
  for (const event of ['recording.started', 'recording.completed', 'recording.failed']) {
    const sent = await cloudrec(['webhooks', 'send', '--url', listenerUrl, '--secret', secret, '--event', event]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(new RegExp(`^${event.replace('.', '\\.')} evt_[0-9a-f]{24} → .*: 204 \\(received\\)$`, 'm'));
    await expect.poll(() => listener.output()).toMatch(new RegExp(`signature holds: ${event.replace('.', '\\.')} evt_`));
  }
  expect(listener.output()).toMatch(/^\s+demo-project\/demo-room\/40\/mix\.mp4 {2}18734112 bytes {2}600\.04 s$/m);
});

test('an event signed with another secret is refused by the listener (400), and send exits 1', async () => {
  const sent = await cloudrec(['webhooks', 'send', '--url', listenerUrl, '--secret', 'not-the-secret']);
  expect(sent.code).toBe(1);
  expect(sent.stdout).toMatch(/: 400 \(not received: the service would retry it\)$/m);
  await expect.poll(() => listener.output()).toMatch(/REFUSED \(bad_signature\)/);
});

test('during a rotation (--old-secret) the event carries both signatures, and a receiver of either accepts it', async () => {
  const sent = await cloudrec(['webhooks', 'send', '--url', listenerUrl, '--secret', 'the-new-secret', '--old-secret', secret]);
  expect(sent.code, sent.stdout).toBe(0);
});

test('each event sent is one the spec describes: its body valid against the webhook schema, its headers as documented', async () => {
  const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const receiver: TestHttpServer = await startHttpServer((req, res) => {
    received.push({ body: req.body, headers: req.headers });
    res.writeHead(200).end();
  });
  try {
    for (const event of ['recording.started', 'recording.completed', 'recording.failed']) {
      expect((await cloudrec(['webhooks', 'send', '--url', receiver.url, '--secret', secret, '--event', event])).code).toBe(0);
    }
    for (const { body, headers } of received) {
      const type = (JSON.parse(body) as { type: string }).type;
      const validate = apiValidator.schemaAt(`/webhooks/${type.replace('/', '~1')}/post/requestBody/content/application~1json/schema`);
      expect(validate(JSON.parse(body)), JSON.stringify(validate.errors)).toBe(true);
      expect(headers['content-type']).toBe('application/json');
      expect(await verifyWebhook(body, headers, secret)).toMatchObject({ ok: true });
    }
  } finally {
    await receiver.close();
  }
});

test('send to an address where nothing listens exits 3 saying so; an unknown event type is a usage error', async () => {
  const unreachable = await cloudrec(['webhooks', 'send', '--url', `http://127.0.0.1:${await freePort()}/`, '--secret', secret]);
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr).toMatch(/Could not deliver recording\.completed evt_\w+ to .*: ECONNREFUSED\./);
  const unknown = await cloudrec(['webhooks', 'send', '--url', listenerUrl, '--secret', secret, '--event', 'recording.paused']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('--event must be one of recording.started, recording.completed, recording.failed');
});
