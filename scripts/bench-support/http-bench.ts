// The HTTP benchmark: each server in its own process, the load generator (autocannon) in another,
// all in one run on this machine; rounds interleaved, medians reported with p50/p99 and the
// server's CPU time per request, each as a ratio to a bare node:http server answering the same JSON.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase, transaction } from '../../src/server/database.js';
import { createProjectStore } from '../../src/server/project-store.js';
import { createSandboxChannels } from '../../src/server/sandbox-channels.js';
import { createSecretBox, loadSecretKey } from '../../src/server/secret-box.js';
import { recordingSettings } from '../../src/server/start-recording.js';
import { createTaskStore } from '../../src/server/task-store.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const ids = { app_id: 'bench-app', project_id: 'bench-proj', sign_key: 'bench-key-0123456789' };
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
}

export interface Server {
  url: string;
  pid: number;
  stop(): void;
}

/** Starts `command` and resolves once a line of its output matches `ready`, with the port that line names. */
export function launch(command: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}`, pid: child.pid!, stop: () => child.kill('SIGKILL') });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}:\n${output}`)));
  });
}

const freePort = async () => {
  const { createServer } = await import('node:net');
  return new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
};

/**
 * A data folder with the bench project, `pool` channels with a user each, `recording` tasks
 * recording and `ended` tasks completed (the history a long-running service keeps).
 */
function prepareData(recording: number, pool: number, ended = 0, webhookUrl?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-'));
  const db = openDatabase(join(dir, 'cloudrec.db'));
  const projects = createProjectStore(db, createSecretBox(loadSecretKey('', dir).key));
  const channels = createSandboxChannels(db);
  const tasks = createTaskStore(db);
  const storage = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'recordings', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true };
  const user = { audio: true, video: true, dual_stream: false };
  transaction(db, () => {
    projects.put(ids.app_id, ids.project_id, { sign_key: ids.sign_key, recording_enabled: true, storage });
    if (webhookUrl) projects.patch(ids.app_id, ids.project_id, { webhook: { url: webhookUrl, secret: 'whsec_bench', previous_secret: null, previous_until: null } });
    channels.join(ids.app_id, 'repeat-room', 1, user);
    for (let i = 0; i < pool; i++) channels.join(ids.app_id, `pool-${i}`, 1, user);
    const settings = recordingSettings({ ...ids, channel: 'x' });
    for (let i = 0; i < recording; i++) {
      channels.join(ids.app_id, `busy-${i}`, 1, user);
      tasks.create({ app_id: ids.app_id, project_id: ids.project_id, channel: `busy-${i}`, settings });
    }
    for (let i = 0; i < ended; i++) {
      const task = tasks.create({ app_id: ids.app_id, project_id: ids.project_id, channel: `old-${i % 1000}`, settings });
      tasks.update(task.task_id, { state: 'completed', ended_at: Date.now(), end_reason: 'idle_timeout' });
    }
  });
  db.close();
  return dir;
}

/** The SQLite drivers the server can be measured on: Node's own, and better-sqlite3 standing in for it. */
export const sqliteDrivers = {
  'node:sqlite': [] as string[],
  'better-sqlite3': ['--import', join(import.meta.dirname, 'sqlite-driver-hook.mjs')],
};
export type SqliteDriver = keyof typeof sqliteDrivers;

/** The version of better-sqlite3 installed for the comparison (a devDependency), if any. */
export function betterSqlite3Version(): string | undefined {
  try {
    return (createRequire(import.meta.url)('better-sqlite3/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

async function referenceServer(dataDir: string, driver: SqliteDriver = 'node:sqlite'): Promise<Server> {
  const port = await freePort();
  return launch('node', [...sqliteDrivers[driver], join(root, 'dist/src/server/main.js')], /reference server on http:\/\/127\.0\.0\.1:(\d+)/, {
    CLOUDREC_PORT: String(port),
    CLOUDREC_DATA_DIR: dataDir,
    CLOUDREC_DEMO: 'off',
    CLOUDREC_LOG_LEVEL: 'silent',
    CLOUDREC_RATE_LIMIT_PER_SEC: '100000',
    CLOUDREC_FAILED_AUTH_PER_MIN: '1000000',
    CLOUDREC_MAX_CONNECTIONS: '10000',
  });
}

/** The server process's resident memory now, in bytes (VmRSS, from /proc). */
function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

/** A reference server started on `dataDir`: milliseconds from the spawn to its first answer to a start, and its memory then. */
async function firstAnswer(dataDir: string, driver: SqliteDriver = 'node:sqlite'): Promise<{ server: Server; ms: number; rss: number }> {
  const started = performance.now();
  const server = await referenceServer(dataDir, driver);
  const answer = await fetch(`${server.url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ids, channel: 'repeat-room' }) });
  if (answer.status !== 200) throw new Error(`the first start answered ${answer.status}: ${await answer.text()}`);
  return { server, ms: performance.now() - started, rss: rssBytes(server.pid) };
}

export interface StartupResult {
  tasks: number;
  emptyMs: number;
  fullMs: number;
}

/** Start-up: time to the first answer with no task in the database and with `tasks` ended ones; medians of `rounds`. */
export async function startupBench({ tasks = 100_000, rounds = 3 } = {}): Promise<StartupResult> {
  console.log(`preparing: a database with ${tasks.toLocaleString('en')} ended tasks`);
  const emptyDir = prepareData(0, 0);
  const fullDir = prepareData(0, 0, tasks);
  const empty: number[] = [];
  const full: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [dir, times] of [[emptyDir, empty], [fullDir, full]] as const) {
        const { server, ms } = await firstAnswer(dir);
        server.stop();
        times.push(ms);
      }
      console.log(`  round ${round}/${rounds}: first answer ${empty.at(-1)!.toFixed(0)} ms with no task, ${full.at(-1)!.toFixed(0)} ms with ${tasks.toLocaleString('en')}`);
    }
  } finally {
    for (const dir of [emptyDir, fullDir]) rmSync(dir, { recursive: true, force: true });
  }
  return { tasks, emptyMs: median(empty), fullMs: median(full) };
}

/** The server process's CPU time so far, in ms (user + system, from /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

interface Scenario {
  name: string;
  server: Server;
  body: string;
  newChannels?: string;
  /** The status every answer should have; a round with others is reported. */
  status: string;
  /** Waited for after each round of it (the events it made delivered, say), so no work of its own runs into the next scenario. */
  after?: (result: LoadResult) => Promise<void>;
}

async function load(scenario: Scenario, connections: number, seconds: number, firstChannel: number): Promise<LoadResult & { cpuUsPerRequest: number }> {
  const before = cpuMs(scenario.server.pid);
  const { stdout } = await run('node', [
    join(import.meta.dirname, 'load.mjs'),
    JSON.stringify({ url: `${scenario.server.url}/v1/cloudRecord`, connections, seconds, body: scenario.body, newChannels: scenario.newChannels, firstChannel }),
  ]);
  const result = JSON.parse(stdout) as LoadResult;
  const cpu = cpuMs(scenario.server.pid) - before;
  return { ...result, cpuUsPerRequest: result.requests ? (cpu * 1000) / result.requests : 0 };
}

export interface HttpRow {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  ratio: number;
  p99Ratio: number;
  unexpected: Record<string, number>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export interface MemoryResult {
  emptyRss: number;
  busyRss: number;
  recording: number;
  /** What one recording task adds to the server's resident memory, in bytes. */
  perTask: number;
}

/** Runs every scenario `rounds` times, interleaved; returns a row each, medians. */
export async function httpBench({ connections = 50, seconds = 5, rounds = 3, recording = 10_000, pool = 250_000 } = {}): Promise<{ rows: HttpRow[]; memory: MemoryResult }> {
  console.log(`preparing: two reference servers, one with ${recording.toLocaleString('en')} tasks recording, ${pool.toLocaleString('en')} channels with a user each`);
  const preparing = performance.now();
  const emptyDir = prepareData(0, pool);
  const busyDir = prepareData(recording, pool);
  console.log(`prepared in ${((performance.now() - preparing) / 1000).toFixed(1)} s`);
  const bare = await launch('node', [join(import.meta.dirname, 'bare-server.mjs')], /listening (\d+)/);
  const prismPort = await freePort();
  const prism = await launch(join(root, 'node_modules/.bin/prism'), ['mock', '--host', '127.0.0.1', '--port', String(prismPort), join(root, 'generated/openapi.json')], /Prism is listening on http:\/\/127\.0\.0\.1:(\d+)/);
  const { server: empty, ms: emptyMs, rss: emptyRss } = await firstAnswer(emptyDir);
  const { server: busy, ms: busyMs, rss: busyRss } = await firstAnswer(busyDir);
  const memory = { emptyRss, busyRss, recording, perTask: (busyRss - emptyRss) / Math.max(1, recording) };
  console.log(`reference servers answering: ${emptyMs.toFixed(0)} ms with no task, ${busyMs.toFixed(0)} ms with ${recording.toLocaleString('en')} recording`);
  console.log(`memory: ${(emptyRss / 2 ** 20).toFixed(1)} MiB with no task, ${(busyRss / 2 ** 20).toFixed(1)} MiB with ${recording.toLocaleString('en')} recording: ${(memory.perTask / 1024).toFixed(2)} KiB a recording task`);
  const valid = JSON.stringify({ ...ids, channel: 'repeat-room' });
  const kinds = (server: Server, suffix: string, prefix: string): Scenario[] => [
    { name: `identical repeat of an active start${suffix}`, server, body: valid, status: '200' },
    { name: `invalid body (400)${suffix}`, server, body: JSON.stringify({ ...ids, channel: 'repeat-room', layout_mode: 7 }), status: '400' },
    { name: `wrong sign_key (401)${suffix}`, server, body: JSON.stringify({ ...ids, channel: 'repeat-room', sign_key: 'wrong-key' }), status: '401' },
    { name: `a new task each request${suffix}`, server, body: JSON.stringify({ ...ids, channel: 'pool-0' }), newChannels: prefix, status: '200' },
  ];
  const scenarios: Scenario[] = [
    { name: 'bare node:http, the same JSON', server: bare, body: valid, status: '200' },
    { name: 'Prism mock of the spec', server: prism, body: valid, status: '200' },
    ...kinds(empty, '', 'pool-'),
    ...kinds(busy, `, ${recording.toLocaleString('en')} recording`, 'pool-'),
  ];
  try {
    return { rows: await runScenarios(scenarios, { connections, seconds, rounds, pool }), memory };
  } finally {
    for (const server of [bare, prism, empty, busy]) server.stop();
    for (const dir of [emptyDir, busyDir]) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every scenario `rounds` times, interleaved; a row each, medians, ratios to the first scenario (the bare server). */
async function runScenarios(scenarios: Scenario[], { connections, seconds, rounds, pool }: { connections: number; seconds: number; rounds: number; pool: number }): Promise<HttpRow[]> {
  // Each round of new tasks takes the channels after those of the round before, on each server.
  const nextChannel = new Map<Server, number>();
  const results = new Map<string, (LoadResult & { cpuUsPerRequest: number })[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of scenarios) {
      const first = nextChannel.get(scenario.server) ?? 0;
      const result = await load(scenario, connections, seconds, first);
      await scenario.after?.(result);
      if (scenario.newChannels) nextChannel.set(scenario.server, first + result.requests + connections);
      if (scenario.newChannels && first + result.requests > pool) throw new Error('the channel pool ran out: raise it');
      results.set(scenario.name, [...(results.get(scenario.name) ?? []), result]);
      console.log(`  round ${round}/${rounds}  ${scenario.name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
    }
  }
  const bareRps = median(results.get(scenarios[0]!.name)!.map((r) => r.rps));
  const bareP99 = median(results.get(scenarios[0]!.name)!.map((r) => r.p99));
  return scenarios.map((scenario) => {
    const rs = results.get(scenario.name)!;
    const unexpected: Record<string, number> = {};
    for (const r of rs) for (const [code, count] of Object.entries(r.statuses)) if (code !== scenario.status) unexpected[code] = (unexpected[code] ?? 0) + count;
    const rps = median(rs.map((r) => r.rps));
    const p99 = median(rs.map((r) => r.p99));
    return { scenario: scenario.name, rps, p50: median(rs.map((r) => r.p50)), p99, cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)), ratio: rps / bareRps, p99Ratio: p99 / bareP99, unexpected };
  });
}


export interface WebhookBenchResult {
  rows: HttpRow[];
  /** Events the answering receiver got, and the seconds from the end of each round's load until the last of its events arrived (medians). */
  delivered: number;
  drainSec: number;
  /** Events a second that arrived at the receiver over the load and the drain together (median of the rounds). */
  eventsPerSec: number;
}

/**
 * Starts with a project webhook: a new task each request on servers whose project has no webhook,
 * one to a receiver that answers (each start writes its event in its own transaction, and the
 * events are sent while the starts go on), and one to a receiver that never answers (the sender's
 * slots held for the timeout), against the bare server. The receivers are processes of their own;
 * after each round of the answering one, the bench waits for every event to arrive.
 */
export async function webhookBench({ connections = 50, seconds = 5, rounds = 3, pool = 250_000 } = {}): Promise<WebhookBenchResult> {
  const receiver = (mode: string) => launch('node', [join(import.meta.dirname, 'webhook-receiver.mjs'), mode], /listening (\d+)/);
  const [answering, hanging, bare] = await Promise.all([receiver('answer'), receiver('hang'), launch('node', [join(import.meta.dirname, 'bare-server.mjs')], /listening (\d+)/)]);
  console.log(`preparing: three reference servers, ${pool.toLocaleString('en')} channels with a user each`);
  const dirs = [prepareData(0, pool), prepareData(0, pool, 0, `${answering.url}/`), prepareData(0, pool, 0, `${hanging.url}/`)];
  const [plain, hooked, stuck] = [await firstAnswer(dirs[0]!), await firstAnswer(dirs[1]!), await firstAnswer(dirs[2]!)].map((r) => r.server) as [Server, Server, Server];
  const received = async () => ((await (await fetch(`${answering.url}/count`)).json()) as { received: number }).received;
  const drains: number[] = [];
  const rates: number[] = [];
  // Every task made on the hooked server makes one event: its first answer's, then each 200 of a new task.
  let expected = 1;
  const newTask = JSON.stringify({ ...ids, channel: 'pool-0' });
  const scenarios: Scenario[] = [
    { name: 'bare node:http, the same JSON', server: bare, body: JSON.stringify(ids), status: '200' },
    { name: 'a new task each request, no webhook', server: plain, body: newTask, newChannels: 'pool-', status: '200' },
    {
      name: 'a new task each request, webhook to a receiver answering 204',
      server: hooked,
      body: newTask,
      newChannels: 'pool-',
      status: '200',
      after: async (result) => {
        const ended = performance.now();
        const made = result.statuses['200'] ?? 0;
        const before = expected;
        expected += made;
        while ((await received()) < expected) await new Promise((resolve) => setTimeout(resolve, 20));
        const drain = (performance.now() - ended) / 1000;
        drains.push(drain);
        rates.push((expected - before) / (seconds + drain));
        console.log(`    ${made.toLocaleString('en')} events, the last delivered ${drain.toFixed(2)} s after the load ended`);
      },
    },
    { name: 'a new task each request, webhook to a receiver that never answers', server: stuck, body: newTask, newChannels: 'pool-', status: '200' },
  ];
  try {
    const rows = await runScenarios(scenarios, { connections, seconds, rounds, pool });
    return { rows, delivered: expected, drainSec: median(drains), eventsPerSec: median(rates) };
  } finally {
    for (const server of [bare, plain, hooked, stuck, answering, hanging]) server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export interface DriverResult {
  rows: HttpRow[];
  /** Median ms from the spawn to the first answer, with `tasks` ended tasks in the database, by driver. */
  startupMs: Record<SqliteDriver, number>;
  tasks: number;
  betterSqlite3: string;
}

/**
 * The same server on node:sqlite and on better-sqlite3, in one run: an identical repeat (no write)
 * and a new task each request (group commit: one fsync for the starts of one turn of the event
 * loop), each against the bare server; then start-up with `tasks` ended tasks. Both read the same
 * prepared database files (SQLite's format is the driver's neither), each driver its own copy.
 */
export async function driverBench({ connections = 50, seconds = 5, rounds = 3, tasks = 100_000, pool = 250_000 } = {}): Promise<DriverResult> {
  const betterSqlite3 = betterSqlite3Version();
  if (!betterSqlite3) throw new Error('better-sqlite3 is not installed (a devDependency): npm ci');
  const drivers = Object.keys(sqliteDrivers) as SqliteDriver[];
  console.log(`preparing: ${pool.toLocaleString('en')} channels with a user each; ${tasks.toLocaleString('en')} ended tasks`);
  const loadDir = prepareData(0, pool);
  const startupDir = prepareData(0, 0, tasks);
  const copies = drivers.map((driver) => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-driver-'));
    cpSync(loadDir, join(dir, 'load'), { recursive: true });
    cpSync(startupDir, join(dir, 'startup'), { recursive: true });
    return { driver, dir };
  });
  const bare = await launch('node', [join(import.meta.dirname, 'bare-server.mjs')], /listening (\d+)/);
  const servers: Server[] = [bare];
  try {
    const valid = JSON.stringify({ ...ids, channel: 'repeat-room' });
    const scenarios: Scenario[] = [{ name: 'bare node:http, the same JSON', server: bare, body: valid, status: '200' }];
    for (const { driver, dir } of copies) {
      const { server } = await firstAnswer(join(dir, 'load'), driver);
      servers.push(server);
      // The stand-in really is in use: its addon is mapped into the server process, or is not.
      const mapped = readFileSync(`/proc/${server.pid}/maps`, 'utf8').includes('better-sqlite3');
      if (mapped !== (driver === 'better-sqlite3')) throw new Error(`the server meant to run on ${driver} has better-sqlite3 ${mapped ? '' : 'not '}loaded`);
      scenarios.push(
        { name: `${driver}: identical repeat of an active start`, server, body: valid, status: '200' },
        { name: `${driver}: a new task each request`, server, body: JSON.stringify({ ...ids, channel: 'pool-0' }), newChannels: 'pool-', status: '200' },
      );
    }
    const rows = await runScenarios(scenarios, { connections, seconds, rounds, pool });
    for (const server of servers.splice(0)) server.stop();
    const times = new Map<SqliteDriver, number[]>(drivers.map((d) => [d, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const { driver, dir } of copies) {
        const { server, ms } = await firstAnswer(join(dir, 'startup'), driver);
        server.stop();
        times.get(driver)!.push(ms);
        console.log(`  round ${round}/${rounds}  ${driver}: first answer ${ms.toFixed(0)} ms with ${tasks.toLocaleString('en')} tasks`);
      }
    }
    const startupMs = Object.fromEntries(drivers.map((d) => [d, median(times.get(d)!)])) as Record<SqliteDriver, number>;
    return { rows, startupMs, tasks, betterSqlite3 };
  } finally {
    for (const server of servers) server.stop();
    for (const dir of [loadDir, startupDir, ...copies.map((c) => c.dir)]) rmSync(dir, { recursive: true, force: true });
  }
}

export interface FleetResult {
  rows: HttpRow[];
  /** The resident memory of an API node of the fleet per recording task: with `recording` tasks recording less with none. */
  memoryPerTask: number;
  recording: number;
}

/**
 * The fleet against the embedded server, in one run: the same server as an API node on a throwaway
 * PostgreSQL, and on its SQLite file, an identical repeat and a new task each request (group
 * commit on both: one COMMIT for the starts of one turn of the event loop), against the bare
 * server; then an API node's memory per recording task (it keeps the recording tasks in memory).
 */
export async function fleetBench({ connections = 50, seconds = 5, rounds = 3, pool = 250_000, recording = 10_000 } = {}): Promise<FleetResult> {
  const { startThrowawayPostgres } = await import('../postgres.js');
  const { openPgStores } = await import('../../src/server/postgres/open-stores.js');
  const database = await startThrowawayPostgres();
  const secretKey = (await import('node:crypto')).randomBytes(32).toString('base64');
  console.log(`preparing: ${pool.toLocaleString('en')} channels with a user each, in SQLite and in PostgreSQL`);
  const sqliteDir = prepareData(0, pool);
  const stores = await openPgStores(database.url, createSecretBox(Buffer.from(secretKey, 'base64')));
  const storage = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'recordings', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true };
  await stores.projects.put(ids.app_id, ids.project_id, { sign_key: ids.sign_key, recording_enabled: true, storage });
  // In bulk: one statement, not a join (and a NOTIFY) each.
  await stores.db.query(
    `INSERT INTO memberships (app_id, channel, uid, audio, video, dual_stream, joined_at)
     SELECT $1, c, 1, true, true, false, $2 FROM (SELECT 'pool-' || i AS c FROM generate_series(0, $3 - 1) i UNION ALL SELECT 'repeat-room') AS channels`,
    [ids.app_id, Date.now(), pool],
  );
  await stores.close();
  const env = (role: string) => ({ CLOUDREC_DATABASE_URL: database.url, CLOUDREC_SECRET_KEY: secretKey, CLOUDREC_ROLE: role });
  const nodeDirs: string[] = [];
  const fleetNode = async () => {
    nodeDirs.push(mkdtempSync(join(tmpdir(), 'cloudrec-bench-node-')));
    const port = await freePort();
    return launch('node', [join(root, 'dist/src/server/main.js')], /reference server on http:\/\/127\.0\.0\.1:(\d+)/, {
      ...env('api'), CLOUDREC_PORT: String(port), CLOUDREC_DATA_DIR: nodeDirs.at(-1)!, CLOUDREC_DEMO: 'off', CLOUDREC_LOG_LEVEL: 'silent',
      CLOUDREC_RATE_LIMIT_PER_SEC: '100000', CLOUDREC_FAILED_AUTH_PER_MIN: '1000000', CLOUDREC_MAX_CONNECTIONS: '10000',
    });
  };
  const valid = JSON.stringify({ ...ids, channel: 'repeat-room' });
  const fresh = JSON.stringify({ ...ids, channel: 'pool-0' });
  const warm = (server: Server) => fetch(`${server.url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid });
  const servers: Server[] = [];
  try {
    // Memory first: a node on the database with no task recording, then one with `recording` of them.
    const idle = await fleetNode();
    servers.push(idle);
    await warm(idle);
    const idleRss = rssBytes(idle.pid);
    const pg = (await import('pg')).default;
    const client = new pg.Client(database.url);
    await client.connect();
    await client.query(
      `INSERT INTO tasks (app_id, project_id, channel, settings, state, created_at)
       SELECT $1, $2, 'busy-' || i, $3::jsonb, 'recording', $4 FROM generate_series(0, $5 - 1) i`,
      [ids.app_id, ids.project_id, JSON.stringify(recordingSettings({ ...ids, channel: 'x' })), Date.now(), recording],
    );
    await client.end();
    const api = await fleetNode();
    servers.push(api);
    await warm(api);
    const memoryPerTask = (rssBytes(api.pid) - idleRss) / recording;
    idle.stop();
    const bare = await launch('node', [join(import.meta.dirname, 'bare-server.mjs')], /listening (\d+)/);
    const sqlite = await referenceServer(sqliteDir);
    servers.push(bare, sqlite);
    await warm(sqlite);
    const rows = await runScenarios(
      [
        { name: 'bare node:http, the same JSON', server: bare, body: valid, status: '200' },
        { name: 'SQLite (one process): identical repeat', server: sqlite, body: valid, status: '200' },
        { name: 'PostgreSQL API node: identical repeat', server: api, body: valid, status: '200' },
        { name: 'SQLite (one process): a new task each request', server: sqlite, body: fresh, newChannels: 'pool-', status: '200' },
        { name: 'PostgreSQL API node: a new task each request', server: api, body: fresh, newChannels: 'pool-', status: '200' },
      ],
      { connections, seconds, rounds, pool },
    );
    return { rows, memoryPerTask, recording };
  } finally {
    for (const server of servers) server.stop();
    for (const dir of [sqliteDir, ...nodeDirs]) rmSync(dir, { recursive: true, force: true });
    await database.remove();
  }
}
