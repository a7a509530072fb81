// `npm run cluster`: a whole fleet on this machine, thrown away when it stops. A PostgreSQL server
// (a new cluster in a temporary folder, on a free port), an S3-compatible store, two API nodes and
// two workers (both taking recordings from the queue), the demo project on them; one line a
// part, then the curl line to paste. Ctrl-C or SIGTERM stops all of it and removes the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedBucket, embeddedCredentials, startEmbeddedStorage, type EmbeddedStorage } from '../src/server/embedded-storage.js';
import { demo } from '../src/server/main.js';
import { freePort, startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';
import { projectRoot } from './redocly.js';

const apiNodes = 2;
const workers = 2;

interface Node {
  role: 'api' | 'worker';
  child: ChildProcess;
  /** An API node's address; a worker's render slots and metrics address. */
  detail?: string;
  output: string;
}

const folder = mkdtempSync(join(tmpdir(), 'cloudrec-cluster-'));
const nodes: Node[] = [];
let database: ThrowawayPostgres | undefined;
let storage: EmbeddedStorage | undefined;
let stopping = false;

/** Stops every part, newest first, and removes the folder. */
async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\ncluster: stopping');
  await Promise.all(
    nodes.map(
      (node) =>
        new Promise<void>((resolve) => {
          if (node.child.exitCode !== null || node.child.signalCode !== null) return resolve();
          node.child.once('exit', () => resolve());
          node.child.kill('SIGTERM');
        }),
    ),
  );
  await storage?.close();
  await database?.remove();
  rmSync(folder, { recursive: true, force: true });
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

/** Starts a node of the fleet (the compiled server, as the package runs it); resolves once it says it is up. */
function startNode(role: Node['role'], index: number, env: Record<string, string>): Promise<Node> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), 'serve'], {
      env: { ...process.env, ...env, CLOUDREC_ROLE: role, CLOUDREC_DATA_DIR: join(folder, `${role}-${index}`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node: Node = { role, child, output: '' };
    const ready = role === 'api' ? /reference server on (http:\/\/\S+)/ : /cloudrec worker \d+: taking recordings from \S+ \((\d+ render slots?)\); health and metrics on (http:\/\/\S+)/;
    const onData = (chunk: Buffer) => {
      node.output += chunk.toString();
      const found = ready.exec(node.output);
      if (found) {
        node.detail = role === 'api' ? found[1] : `${found[1]}, metrics ${found[2]}/metrics`;
        resolve(node);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      if (!stopping) {
        reject(new Error(`the ${role} node ${index} exited (${code}):\n${node.output}`));
        console.error(`cluster: the ${role} node ${child.pid} exited (${code})`);
      }
    });
    nodes.push(node);
  });
}

async function sandbox(base: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
}

try {
  [database, storage] = await Promise.all([startThrowawayPostgres(), freePort().then((port) => startEmbeddedStorage('127.0.0.1', port, join(folder, 's3')))]);
  const env = {
    CLOUDREC_DATABASE_URL: database.url,
    CLOUDREC_SECRET_KEY: randomBytes(32).toString('base64'),
    CLOUDREC_DEMO: 'off',
    CLOUDREC_LOG_LEVEL: 'warn',
  };
  // The first node applies the schema; the others find it (they would wait for its lock anyway).
  const first = await startNode('api', 1, { ...env, CLOUDREC_PORT: String(await freePort()) });
  const rest = await Promise.all([
    ...Array.from({ length: apiNodes - 1 }, async (_, i) => startNode('api', i + 2, { ...env, CLOUDREC_PORT: String(await freePort()) })),
    // A worker serves its health, readiness and metrics on a port of its own.
    ...Array.from({ length: workers }, async (_, i) => startNode('worker', i + 1, { ...env, CLOUDREC_PORT: String(await freePort()) })),
  ]);
  const signKey = randomBytes(16).toString('hex');
  const project = `/sandbox/projects/${demo.appId}/${demo.projectId}`;
  await sandbox(first.detail!, 'PUT', project, {
    sign_key: signKey,
    recording_enabled: true,
    storage: { endpoint: storage.endpoint, region: 'us-east-1', bucket: embeddedBucket, access_key_id: embeddedCredentials.accessKeyId, secret_access_key: embeddedCredentials.secretAccessKey, force_path_style: true },
  });
  for (const uid of demo.uids) await sandbox(first.detail!, 'PUT', `/sandbox/apps/${demo.appId}/channels/${demo.channel}/users/${uid}`, {});
  // Every API node hears of the demo by NOTIFY, within a second: the lines below are printed once all have.
  for (const node of [first, ...rest].filter((n) => n.role === 'api')) {
    for (;;) {
      const channel = await fetch(`${node.detail}/sandbox/apps/${demo.appId}/channels/${demo.channel}`).then((r) => r.json() as Promise<{ members: unknown[] }>);
      if ((await fetch(`${node.detail}${project}`)).ok && channel.members.length === demo.uids.length) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  console.log(`database ${database.url}`);
  console.log(`storage ${storage.endpoint} (bucket ${embeddedBucket})`);
  for (const node of [first, ...rest]) console.log(node.role === 'api' ? `api ${node.detail}` : `worker ${node.child.pid} (${node.detail})`);
  const body = JSON.stringify({ app_id: demo.appId, project_id: demo.projectId, channel: demo.channel, sign_key: signKey });
  console.log(`\nDemo project ${demo.projectId} (app ${demo.appId}), channel ${demo.channel} with users ${demo.uids.join(' and ')}. Start a recording on either API node:\n`);
  console.log(`  curl -s -X POST ${first.detail}/v1/cloudRecord -H 'Content-Type: application/json' \\\n    -d '${body}'`);
  console.log(`\nFollow it: curl -s ${rest[0]?.role === 'api' ? rest[0].detail : first.detail}/sandbox/tasks   Stop everything: Ctrl-C`);
} catch (error) {
  console.error(`cluster: ${(error as Error).message}`);
  await stopAll(1);
}
