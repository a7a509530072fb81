// The reference server process: configuration, database, the demo project on first run,
// listening, the start banner, and a graceful shutdown.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mediaToolProblems } from '../recording/media-tools.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, mediaFolder, settingVariables, type Config } from './config.js';
import { DatabaseError, openDatabase, statement, type Db } from './database.js';
import { createSecretBox, loadSecretKey, SecretKeyError, type SecretBox } from './secret-box.js';
import { embeddedBucket, embeddedCredentials, startEmbeddedStorage, type EmbeddedStorage } from './embedded-storage.js';
import type { createProjectStore } from './project-store.js';
import type { createSandboxChannels } from './sandbox-channels.js';
import { createTaskRunner } from './task-runner.js';

export const demo = { appId: 'demo-app', projectId: 'demo-project', channel: 'demo-room', uids: [1001, 1002] };

/** Creates the demo project and its channel's users on first run; returns the demo sign_key. */
function ensureDemo(
  db: Db,
  projects: ReturnType<typeof createProjectStore>,
  channels: ReturnType<typeof createSandboxChannels>,
  storageEndpoint: string,
): string {
  const stored = statement<[], { value: string }>(db, `SELECT value FROM meta WHERE key = 'demo_sign_key'`).get();
  if (stored) return stored.value;
  // Hex, so the key never starts with a dash that a command line would read as an option.
  const signKey = randomBytes(16).toString('hex');
  projects.put(demo.appId, demo.projectId, {
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
  demo.uids.forEach((uid, i) => channels.join(demo.appId, demo.channel, uid, { audio: true, video: true, dual_stream: i === 0 }));
  // The demo key is printed at every start, so it is kept; real projects keep only a hash.
  statement<[string]>(db, `INSERT INTO meta (key, value) VALUES ('demo_sign_key', ?)`).run(signKey);
  return signKey;
}

function banner(url: string, signKey: string | undefined, config: Config): string {
  const lines = [
    `cloudrec reference server on ${url}`,
    `  API spec:  ${url}/openapi.json   docs: ${url}/docs   data: ${resolve(config.dataDir)}`,
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
  // Recording is the service's work: without the tools for it, the server does not start. The check
  // (a few runs of ffmpeg, ~0.3 s) goes on while the database opens.
  const toolCheck = mediaToolProblems();
  let db: Db;
  let secretBox: SecretBox;
  let built: ReturnType<typeof buildApp>;
  let stopping: string | undefined;
  try {
    // The database first: it takes the folder's lock, so a second server (even one started at the
    // same moment on a new folder) is refused before it touches anything else.
    const usedBefore = ['secret.key', 'recordings', 'media', 's3'].some((name) => existsSync(join(config.dataDir, name)));
    db = openDatabase(join(config.dataDir, 'cloudrec.db'), { usedBefore });
    secretBox = createSecretBox(loadSecretKey(config.secretKey, config.dataDir).key);
    mkdirSync(mediaFolder(config), { recursive: true });
    // The stop call of the sandbox API ends a recording through the runner, made just below.
    built = buildApp({ config, db, secretBox, stopTask: (taskId) => runner.stop(taskId), refusal: () => stopping });
  } catch (error) {
    if (!(error instanceof SecretKeyError) && !(error instanceof DatabaseError)) throw error;
    console.error(`cloudrec: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const missingTools = await toolCheck;
  if (missingTools.length) {
    db.close();
    console.error(`cloudrec: this machine cannot record, so the server does not start.\n  ${missingTools.join('\n  ')}`);
    process.exitCode = 2;
    return;
  }
  const { app, projects, channels, tasks } = built;
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
  });

  let storage: EmbeddedStorage | undefined;
  let signKey: string | undefined;
  /** Ends a start that cannot listen: what is in the way, said in one line, exit 2. */
  const cannotListen = async (problem: string) => {
    console.error(`cloudrec: ${problem}`);
    process.exitCode = 2;
    await storage?.close();
    await app.close();
    db.close();
  };
  if (config.demo) {
    try {
      storage = await startEmbeddedStorage(config.host, config.demoStoragePort, join(config.dataDir, 's3'));
    } catch (error) {
      return cannotListen(addressProblem(error, 'the demo storage', config.host, config.demoStoragePort, 'demoStoragePort'));
    }
    signKey = ensureDemo(db, projects, channels, storage.endpoint);
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
      await runner.shutdown();
      app.server.closeIdleConnections();
      await app.close();
      await storage?.close();
      db.close();
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (config.sandbox && !config.adminToken) {
    app.log.warn({ host: config.host }, 'the sandbox API has no admin token: anyone who can reach this address can change every project (set CLOUDREC_ADMIN_TOKEN)');
  }
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    return cannotListen(addressProblem(error, 'the API', config.host, config.port, 'port'));
  }
  await runner.start();
  console.log(banner(address, signKey, config));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await runServer();
