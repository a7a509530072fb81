// The reference server process: configuration, database, the demo project on first run,
// listening, the start banner, and a graceful shutdown.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mediaToolProblems } from '../recording/media-tools.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, mediaFolder, settingVariables, webhookAllowsPrivate, type Config } from './config.js';
import { DatabaseError, openDatabase, sqliteSchemaVersion, statement, storedSchemaVersion, type Db } from './database.js';
import { createSecretBox, loadSecretKey, SecretKeyError, type SecretBox } from './secret-box.js';
import { embeddedBucket, embeddedCredentials, startEmbeddedStorage, type EmbeddedStorage } from './embedded-storage.js';
import type { PgStores } from './postgres/open-stores.js';
import type { PgWorkQueue } from './postgres/work-queue.js';
import { isDatabaseUnavailable } from './postgres/unavailable.js';
import { markStopped, sqliteStores, type Stores } from './stores.js';
import { checkReadiness } from './readiness.js';
import { createTaskRunner } from './task-runner.js';
import { createWebhookDispatcher } from './webhook-dispatcher.js';
import { specSchedule } from './webhook-events.js';

type MaybePromise<T> = T | Promise<T>;

export const demo = { appId: 'demo-app', projectId: 'demo-project', channel: 'demo-room', uids: [1001, 1002] };

/** Creates the demo project and its channel's users on first run; returns the demo sign_key. */
async function ensureDemo(stores: Stores, claimMeta: (key: string, value: string) => MaybePromise<string>, storageEndpoint: string): Promise<string> {
  // Hex, so the key never starts with a dash that a command line would read as an option.
  const fresh = randomBytes(16).toString('hex');
  // The demo key is printed at every start, so it is kept; real projects keep only a hash.
  const signKey = await claimMeta('demo_sign_key', fresh);
  if (signKey !== fresh) return signKey;
  await stores.projects.put(demo.appId, demo.projectId, {
    sign_key: signKey,
    recording_enabled: true,
    storage: {
      endpoint: storageEndpoint,
      region: 'us-east-1',
      bucket: embeddedBucket,
      access_key_id: embeddedCredentials.accessKeyId,
      secret_access_key: embeddedCredentials.secretAccessKey,
      prefix: '',
      force_path_style: true,
    },
  });
  for (const [i, uid] of demo.uids.entries()) await stores.channels.join(demo.appId, demo.channel, uid, { audio: true, video: true, dual_stream: i === 0 });
  return signKey;
}

/** The embedded database's shared values (the demo key): set once, then read. */
const sqliteMeta = (db: Db) => (key: string, value: string) => {
  statement<[string, string]>(db, 'INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  return statement<[string], { value: string }>(db, 'SELECT value FROM meta WHERE key = ?').get(key)!.value;
};

function banner(url: string, signKey: string | undefined, config: Config, data: string): string {
  const lines = [
    `cloudrec reference server on ${url}${config.databaseUrl ? ` (${config.role === 'all' ? 'API and recording' : 'API'} node of a fleet)` : ''}`,
    `  API spec:  ${url}/openapi.json   docs: ${url}/docs   data: ${data}`,
  ];
  if (signKey) {
    const body = JSON.stringify({ app_id: demo.appId, project_id: demo.projectId, channel: demo.channel, sign_key: signKey });
    lines.push(
      '',
      `Demo project ${demo.projectId} (app ${demo.appId}), channel ${demo.channel} with users ${demo.uids.join(' and ')}. Start a recording:`,
      '',
      `  curl -s -X POST ${url}/v1/cloudRecord -H 'Content-Type: application/json' \\`,
      `    -d '${body}'`,
      '',
      'or from TypeScript:',
      '',
      `  import { createClient } from 'cloudrec';`,
      `  const client = createClient({ baseUrl: '${url}' });`,
      `  const result = await client.startRecording({`,
      `    app_id: '${demo.appId}', project_id: '${demo.projectId}', channel: '${demo.channel}', sign_key: '${signKey}',`,
      `  });`,
      '',
      'Follow and stop tasks through the sandbox API:',
      `  curl -s ${url}/sandbox/tasks`,
      `  curl -s -X POST ${url}/sandbox/tasks/<task_id>/stop`,
      '',
      'Have its events (recording.started, recording.completed, recording.failed) sent to a receiver; this one prints them:',
      `  curl -s -X PUT ${url}/sandbox/projects/${demo.appId}/${demo.projectId}/webhook -H 'Content-Type: application/json' -d '{"url":"http://127.0.0.1:8790/"}'`,
      `  npx cloudrec webhooks listen --secret <the secret in that answer>`,
    );
  }
  return lines.join('\n');
}

/** Why listening on `host:port` failed, in words with the setting to change; anything else is rethrown. */
function addressProblem(error: unknown, what: string, host: string, port: number, setting: 'port' | 'demoStoragePort'): string {
  const change = `choose another with --${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (${settingVariables[setting]})`;
  switch ((error as { code?: string }).code) {
    case 'EADDRINUSE':
      return `port ${port} is in use (wanted for ${what} on ${host}): stop what uses it, or ${change}.`;
    case 'EACCES':
      return `port ${port} needs privileges this process does not have (wanted for ${what} on ${host}): ${change}.`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `${host} is not an address of this machine (wanted for ${what}): change --host (${settingVariables.host}).`;
    default:
      throw error;
  }
}

/** The database a node keeps its stores in, opened: the embedded file, or the fleet's PostgreSQL. */
interface OpenedDatabase {
  stores: Stores;
  /** For GET /readyz: the database's name and the schema versions it holds and this node needs. */
  engine: string;
  schemaVersion(): MaybePromise<number>;
  neededVersion: number;
  /** Sets a shared value unless it is set; returns the one that holds. */
  claimMeta: (key: string, value: string) => MaybePromise<string>;
  close(): MaybePromise<void>;
  /** Where the data is, for the banner. */
  where: string;
}

/** The fleet's database with the password left out, for messages and the banner. */
const withoutPassword = (url: string) => {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
};

/** How long a node waits at start for a database that cannot be reached (starting too, say) before it gives up. */
const databaseWaitMs = 30_000;

async function openFleetDatabase(
  config: Config,
  box: SecretBox,
  log: (message: string) => void,
  onConnectionError: (error: Error, where: string) => void,
): Promise<OpenedDatabase> {
  const [{ openPgStores }, { schemaVersion }] = await Promise.all([import('./postgres/open-stores.js'), import('./postgres/migrations.js')]);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const stores: PgStores = await openPgStores(config.databaseUrl, box, { applicationName: `cloudrec ${config.role} ${process.pid}`, onError: onConnectionError });
      if (stores.applied.length) log(`database schema: applied version${stores.applied.length > 1 ? 's' : ''} ${stores.applied.join(', ')}`);
      return {
        stores,
        engine: 'PostgreSQL',
        schemaVersion: stores.schemaVersion,
        neededVersion: schemaVersion,
        claimMeta: stores.claimMeta,
        close: stores.close,
        where: withoutPassword(config.databaseUrl),
      };
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() - started > databaseWaitMs) throw error;
      if (attempt === 1) log(`waiting for the database at ${withoutPassword(config.databaseUrl)} (${(error as { code?: string }).code ?? (error as Error).message})`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Runs the server until SIGINT or SIGTERM. */
export async function runServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`cloudrec: bad configuration: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const records = config.role !== 'api';
  const answers = config.role !== 'worker';
  // Recording is the service's work: without the tools for it, a node that records does not start.
  // The check (a few runs of ffmpeg, ~0.3 s) goes on while the database opens.
  const toolCheck = records ? mediaToolProblems() : Promise.resolve([]);
  let database: OpenedDatabase;
  let secretBox: SecretBox;
  let built: ReturnType<typeof buildApp>;
  let stopping: string | undefined;
  // The app's logger once it is built; until then, standard error in the same words.
  let connectionLog: { warn(fields: object, message: string): void } = { warn: (fields, message) => console.error(`cloudrec: ${message} ${JSON.stringify(fields)}`) };
  try {
    if (config.databaseUrl) {
      // One key for the whole fleet (checked against the database), or this node's own file.
      secretBox = createSecretBox(loadSecretKey(config.secretKey, config.dataDir).key);
      database = await openFleetDatabase(
        config,
        secretBox,
        (message) => console.log(`cloudrec: ${message}`),
        // Survived (a query on it fails and is answered 503; the pool and the LISTEN connections reconnect), but said.
        (error, where) => connectionLog.warn({ where, reason: error.message }, 'database connection lost'),
      );
    } else {
      // The database first: it takes the folder's lock, so a second server (even one started at the
      // same moment on a new folder) is refused before it touches anything else.
      const usedBefore = ['secret.key', 'recordings', 'media', 's3'].some((name) => existsSync(join(config.dataDir, name)));
      const db = openDatabase(join(config.dataDir, 'cloudrec.db'), { usedBefore });
      secretBox = createSecretBox(loadSecretKey(config.secretKey, config.dataDir).key);
      database = {
        stores: sqliteStores(db, secretBox),
        engine: 'SQLite',
        schemaVersion: () => storedSchemaVersion(db),
        neededVersion: sqliteSchemaVersion,
        claimMeta: sqliteMeta(db),
        close: () => db.close(),
        where: resolve(config.dataDir),
      };
    }
    mkdirSync(mediaFolder(config), { recursive: true });
    // A node that records ends a stopped recording through its runner (made below); an API node
    // marks it ended, and the workers hear of it and hand it to the queue.
    const stores = database.stores;
    const opened = database;
    built = buildApp({
      config,
      stores,
      stopTask: (taskId: number) => (records ? runner.stop(taskId) : markStopped(stores.tasks, taskId)),
      refusal: () => stopping,
      readiness: () =>
        checkReadiness({
          engine: opened.engine,
          schemaVersion: opened.schemaVersion,
          neededVersion: opened.neededVersion,
          ...(queue && { queue: queue.ready }),
          shuttingDown: () => stopping,
        }),
    });
  } catch (error) {
    const unreachable = config.databaseUrl && isDatabaseUnavailable(error);
    // PostgreSQL's own refusals (a wrong password, no such database) carry its severity.
    const refused = config.databaseUrl && typeof (error as { severity?: unknown }).severity === 'string';
    if (!(error instanceof SecretKeyError) && !(error instanceof DatabaseError) && !unreachable && !refused) throw error;
    const where = config.databaseUrl && withoutPassword(config.databaseUrl);
    console.error(
      `cloudrec: ${
        unreachable ? `cannot reach the database at ${where} after ${databaseWaitMs / 1000} s (${(error as { code?: string }).code ?? (error as Error).message}); start it, or check CLOUDREC_DATABASE_URL.`
        : refused ? `the database at ${where} refused this node: ${(error as Error).message}. Check CLOUDREC_DATABASE_URL.`
        : (error as Error).message
      }`,
    );
    process.exitCode = 2;
    return;
  }
  const missingTools = await toolCheck;
  if (missingTools.length) {
    await database.close();
    console.error(`cloudrec: this machine cannot record, so the server does not start.\n  ${missingTools.join('\n  ')}`);
    process.exitCode = 2;
    return;
  }
  const { app, projects, channels, tasks, metrics } = built;
  connectionLog = app.log;
  // In a fleet the files are made by whichever worker takes the task from the queue.
  let queue: PgWorkQueue | undefined;
  if (records && config.databaseUrl) {
    const { openWorkQueue } = await import('./postgres/work-queue.js');
    try {
      queue = await openWorkQueue(config.databaseUrl, {
        applicationName: `cloudrec ${config.role} ${process.pid} queue`,
        onError: (error) => app.log.warn({ reason: error.message }, 'work queue: an operation failed; it is tried again'),
      });
    } catch (error) {
      await database.close();
      console.error(`cloudrec: the work queue in ${withoutPassword(config.databaseUrl)} could not be opened: ${(error as Error).message}`);
      process.exitCode = 2;
      return;
    }
  }
  // Every timer and callback handles its own failures; these say so loudly if one was missed,
  // and keep the server (and the tasks it has accepted) running.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection (a bug); the server keeps running'));
  process.on('uncaughtException', (error) => app.log.error({ err: error }, 'uncaught exception (a bug); the server keeps running'));
  const runner = createTaskRunner({
    tasks,
    projects,
    channels: channels.source,
    log: app.log,
    recordingsDir: join(config.dataDir, 'recordings'),
    mediaDir: mediaFolder(config),
    idleTimeoutSec: config.idleTimeoutSec,
    ...(config.renderSlots > 0 && { renderConcurrency: config.renderSlots }),
    queue,
    metrics: metrics.runner,
  });
  if (records) metrics.setSources({ activeTasks: () => tasks.countActive(), jobs: queue ? queue.counts : runner.load });
  // The nodes that record send the events too (in a fleet, whichever claims one first).
  const webhooks = records
    ? createWebhookDispatcher({
        outbox: built.outbox,
        projects,
        log: app.log,
        allowPrivate: webhookAllowsPrivate(config),
        schedule: { ...specSchedule, firstDelaySec: config.webhookFirstDelayMs / 1000 },
        metrics: metrics.webhooks,
      })
    : undefined;

  let storage: EmbeddedStorage | undefined;
  let signKey: string | undefined;
  /** Ends a start that cannot listen: what is in the way, said in one line, exit 2. */
  const cannotListen = async (problem: string) => {
    console.error(`cloudrec: ${problem}`);
    process.exitCode = 2;
    await storage?.close();
    await app.close();
    await database.close();
  };
  // The demo's embedded storage is one process's: a fleet's storage is started beside it (npm run cluster).
  if (config.demo && !config.databaseUrl) {
    try {
      storage = await startEmbeddedStorage(config.host, config.demoStoragePort, join(config.dataDir, 's3'));
    } catch (error) {
      return cannotListen(addressProblem(error, 'the demo storage', config.host, config.demoStoragePort, 'demoStoragePort'));
    }
    signKey = await ensureDemo(database.stores, database.claimMeta, storage.endpoint);
  }

  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    // From now on a start gets 503 service_unavailable: no task is created after the recordings end.
    stopping = 'The service is shutting down';
    // A client that keeps its request open (or a render that does not stop) cannot hold the process.
    const deadline = setTimeout(() => {
      app.log.warn({ after_sec: config.shutdownTimeoutSec }, 'shutdown deadline passed; exiting');
      process.exit(0);
    }, config.shutdownTimeoutSec * 1000);
    deadline.unref();
    try {
      // In a fleet what this worker holds is handed back to the queue (another worker takes it up;
      // the recordings go on); alone, its recordings end now and their files are made at the next start.
      if (queue) {
        await runner.pause();
        await queue.close();
      } else if (records) {
        await runner.shutdown();
      }
      // After the runner: the events of the tasks it ended are in the outbox, sent after the next start.
      await webhooks?.stop();
      app.server.closeIdleConnections();
      await app.close();
      await storage?.close();
      await database.close();
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (answers && config.sandbox && !config.adminToken) {
    app.log.warn({ host: config.host }, 'the sandbox API has no admin token: anyone who can reach this address can change every project (set CLOUDREC_ADMIN_TOKEN)');
  }
  // A worker listens too: for its health, readiness and metrics (the operations API) alone.
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    return cannotListen(addressProblem(error, answers ? 'the API' : 'health and metrics', config.host, config.port, 'port'));
  }
  if (records) await runner.start();
  await webhooks?.start();
  console.log(
    answers
      ? banner(address, signKey, config, database.where)
      : `cloudrec worker ${process.pid}: taking recordings from ${database.where} (${runner.renderSlots} render slots); health and metrics on ${address}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await runServer();
