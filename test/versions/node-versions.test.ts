// The packed packages on each Node.js line users run (`npm run test:versions`): the client's
// behaviour under 18, 20, 22, 24 and 26, from ESM and CommonJS, and its install with each one's npm;
// the server package installed with that Node's npm (no warning, nothing built) and started 20
// times in a row under 22, 24 and 26.
// The binaries come from the npm registry (scripts/node-versions.ts).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { pack } from '../../scripts/pack.js';
import { clientNodes, nodeBinary, serverNodes } from '../../scripts/node-versions.js';
import { installTarballs, npmWarnings, packagesBuiltAtInstall } from '../support/consumer-project.js';
import { freePort } from '../support/free-port.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { startProcess } from '../support/process.js';
import { arrangeProject, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'cloudrec-versions-'));
/** The environment of a user whose `node` (and so npm's) is `version`. */
const withNode = (version: string) => ({ ...process.env, PATH: `${dirname(nodeBinary(version))}:${process.env.PATH}` });
let tarballs: { client: string; server: string };

beforeAll(() => {
  const missing = [...clientNodes, ...serverNodes].filter((version) => !existsSync(nodeBinary(version)));
  if (missing.length) throw new Error(`No Node ${missing.join(', ')} here: run npm run test:versions, which fetches them first.`);
  const [client, server] = pack({ out: join(work, 'packages'), buildDocs: false, docsDir: inject('docsSite') });
  tarballs = { client: client!, server: server! };
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The same checks from ESM and from CommonJS: every kind of result the client gives.
const behaviour = `
const [base, stub, dead, signKey] = process.argv.slice(2);
const ids = { app_id: 'versions-app', project_id: 'versions-proj', channel: 'versions-room', sign_key: signKey };
const client = createClient({ baseUrl: base, timeoutMs: 10000 });
const first = await client.startRecording(ids);
const again = await client.startRecording(ids);
const wrong = await client.startRecording({ ...ids, sign_key: 'not-the-key' });
const slow = await createClient({ baseUrl: stub + '/hang', timeoutMs: 300, maxRetries: 0 }).startRecording(ids);
const cancelled = new AbortController();
cancelled.abort();
const aborted = await client.startRecording(ids, { signal: cancelled.signal });
const down = await createClient({ baseUrl: dead, maxRetries: 0 }).startRecording(ids);
const flaky = await createClient({ baseUrl: stub + '/flaky/' + process.version + process.argv[1] }).startRecording(ids);
const event = JSON.stringify({ id: 'evt_0123456789abcdef', type: 'recording.started', created_at: new Date().toISOString(), task_id: 1, app_id: 'a', project_id: 'p', channel: 'c', data: {} });
const signed = { 'cloudrec-signature': await signWebhook(event, 'whsec_versions') };
const verified = await verifyWebhook(event, signed, 'whsec_versions');
const tampered = await verifyWebhook(event.replace('"task_id":1', '"task_id":2'), signed, 'whsec_versions');
console.log(JSON.stringify({
  start: { kind: first.kind, attempts: first.attempts, requestId: /^[0-9a-f-]{36}$/.test(first.requestId ?? '') },
  repeat: { kind: again.kind, sameTask: first.ok && again.ok && first.data.task_id === again.data.task_id },
  wrongKey: { kind: wrong.kind, status: wrong.status, code: wrong.kind === 'api' ? wrong.error.code : undefined },
  timeout: slow.kind, aborted: aborted.kind, unreachable: down.kind,
  retried: { kind: flaky.kind, attempts: flaky.attempts },
  webhook: { verified: verified.ok && verified.event.type, tampered: !tampered.ok && tampered.reason },
}));`;

describe('the cloudrec client package', () => {
  let server: ReferenceServer;
  let stub: TestHttpServer;
  let dead: string;
  const signKey = 'versions-secret-key';
  const dir = join(work, 'client');

  beforeAll(async () => {
    mkdirSync(dir);
    installTarballs(dir, [tarballs.client]);
    writeFileSync(join(dir, 'behaviour.mjs'), `import { createClient } from 'cloudrec';\nimport { signWebhook, verifyWebhook } from 'cloudrec/webhooks';\n${behaviour}\n`);
    writeFileSync(
      join(dir, 'behaviour.cjs'),
      `const { createClient } = require('cloudrec');\nconst { signWebhook, verifyWebhook } = require('cloudrec/webhooks');\n(async () => {${behaviour}\n})();\n`,
    );
    server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' }, undefined, { compiled: true });
    await arrangeProject(server.baseUrl, { app_id: 'versions-app', project_id: 'versions-proj', sign_key: signKey, channel: 'versions-room', uids: [1] });
    // /hang never answers; /flaky/<node version><script> answers 503 (Retry-After: 0) once, then a task.
    const flakyRuns = new Map<string, number>();
    stub = await startHttpServer((req, res) => {
      if (req.url.startsWith('/hang')) return;
      const count = (flakyRuns.get(req.url) ?? 0) + 1;
      flakyRuns.set(req.url, count);
      if (count === 1) res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"code":"service_unavailable","message":"Try again."}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":"success","task_id":7}');
    });
    dead = `http://127.0.0.1:${await freePort()}`;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    server?.remove();
    await stub?.close();
  });

  // npm 11 needs Node 20.17 or later: for Node 18 the package installed by a newer npm (above) is run.
  test.each(clientNodes.filter((version) => Number(version.split('.')[0]) >= 20))("installs with Node %s's npm without a warning", (version) => {
    const fresh = join(work, `client-${version}`);
    mkdirSync(fresh);
    expect(npmWarnings(installTarballs(fresh, [tarballs.client], withNode(version)))).toEqual([]);
    expect(packagesBuiltAtInstall(fresh)).toEqual([]);
  });

  describe.each(clientNodes)('on Node %s', (version) => {
    test.each(['behaviour.mjs', 'behaviour.cjs'])('gives every kind of result from %s', async (file) => {
      const { stdout } = await run(nodeBinary(version), [join(dir, file), server.baseUrl, stub.url, dead, signKey], { cwd: dir });
      expect(JSON.parse(stdout)).toEqual({
        start: { kind: 'success', attempts: 1, requestId: true },
        repeat: { kind: 'success', sameTask: true },
        wrongKey: { kind: 'api', status: 401, code: 'invalid_credentials' },
        timeout: 'timeout',
        aborted: 'aborted',
        unreachable: 'network',
        retried: { kind: 'success', attempts: 2 },
        webhook: { verified: 'recording.started', tampered: 'bad_signature' },
      });
    });
  });
});

describe('the cloudrec-server package', () => {
  describe.each(serverNodes)('on Node %s', (version) => {
    const dir = join(work, `server-${version}`);

    test("installs with that Node's npm without a warning and without building anything", () => {
      mkdirSync(dir);
      expect(npmWarnings(installTarballs(dir, [tarballs.server], withNode(version)))).toEqual([]);
      expect(packagesBuiltAtInstall(dir)).toEqual([]);
    }, 120_000);

    test('starts 20 times of 20 on the same data folder, answering a start each time with a new task', async () => {
      const data = join(dir, 'data');
      const taskIds: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [port, storagePort] = [await freePort(), await freePort()];
        const served = await startProcess(
          nodeBinary(version),
          [join(dir, 'node_modules/.bin/cloudrec'), 'serve', '--port', String(port), '--demo-storage-port', String(storagePort), '--data-dir', data, '--log-level', 'warn'],
          { ready: /"sign_key":"[^"]+"/, cwd: dir, env: withNode(version) },
        );
        try {
          const body = /-d '(\{.*\})'/.exec(served.output())![1]!;
          const answer = await fetch(`http://127.0.0.1:${port}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          expect(answer.status, served.output()).toBe(200);
          taskIds.push(((await answer.json()) as { task_id: number }).task_id);
        } finally {
          await served.stop();
        }
        expect(served.child.exitCode, `start ${i + 1}: ${served.output()}`).toBe(0);
        expect(served.output(), `start ${i + 1}`).not.toMatch(/Warning|Assertion failed/);
      }
      // A shutdown ends the recording, so each start makes a new task; ids are never reused.
      expect(taskIds).toEqual([...taskIds].sort((a, b) => a - b));
      expect(new Set(taskIds).size).toBe(20);
    }, 180_000);
  });

  test('refuses a Node it does not support (20): in npm\'s words at install, in its own at start', () => {
    const dir = join(work, 'server-20');
    mkdirSync(dir);
    const warnings = npmWarnings(installTarballs(dir, [tarballs.server], withNode('20.20.2')));
    expect(warnings.join('\n')).toMatch(/EBADENGINE.*cloudrec-server@.*required: \{ node: '>=22\.13' \}/s);
    // Installed anyway, the command says what it needs instead of failing on node:sqlite.
    const ran = spawnSync(nodeBinary('20.20.2'), [join(dir, 'node_modules/.bin/cloudrec'), 'serve'], { encoding: 'utf8' });
    expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 2, stderr: 'cloudrec needs Node.js 22.13 or later (24 LTS recommended); this is Node.js 20.20.2.\n' });
  }, 120_000);
});
