import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { projectRoot } from './prism.js';
import { startProcess, type RunningProcess } from './process.js';
import { tempDir } from './temp-dir.js';

export interface ReferenceServer {
  baseUrl: string;
  dataDir: string;
  process: RunningProcess;
  /** Stops the process (SIGTERM, or SIGKILL to simulate a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Removes the data folder (after stop). */
  remove(): void;
}

/**
 * Starts the reference server as a real process on a free port, its data in a temp folder (or
 * `dataDir`): from the source through tsx, or `compiled` (dist/, built by `npm run build`), where
 * the process's own pid must be the server's.
 */
export async function startReferenceServer(
  env: Record<string, string> = {},
  dataDir = tempDir('cloudrec-server-'),
  { compiled = false, ready = /reference server on http/ } = {},
): Promise<ReferenceServer> {
  const port = await freePort();
  const [command, args] = compiled
    ? ['node', [join(projectRoot, 'dist/src/server/main.js')]]
    : [join(projectRoot, 'node_modules/.bin/tsx'), [join(projectRoot, 'src/server/main.ts')]];
  const process = await startProcess(command, args, {
    ready,
    env: {
      CLOUDREC_PORT: String(port),
      CLOUDREC_DATA_DIR: dataDir,
      CLOUDREC_DEMO: 'off',
      CLOUDREC_LOG_LEVEL: 'info',
      ...env,
    },
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    process,
    async stop(signal = 'SIGTERM') {
      if (signal === 'SIGKILL') {
        try {
          globalThis.process.kill(-process.child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await process.stop();
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Calls the sandbox control API; throws unless it answers 2xx. */
export async function sandbox(baseUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Sends a start request with a JSON body, as any client would. */
export const postStart = (baseUrl: string, body: object) =>
  fetch(`${baseUrl}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Starts a recording task; throws unless the server answers 200. Resolves with its task_id. */
export async function startTask(baseUrl: string, body: object): Promise<number> {
  const response = await postStart(baseUrl, body);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /v1/cloudRecord answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { task_id: number }).task_id;
}

/** Storage settings that pass the schema (nothing listens there; fine until a recording uploads). */
export const placeholderStorage = {
  endpoint: 'http://127.0.0.1:9',
  bucket: 'recordings',
  access_key_id: 'test-access',
  secret_access_key: 'test-secret-never-logged',
};

/** A project with recording on and storage set, and a channel with users in it. */
export async function arrangeProject(
  baseUrl: string,
  ids: { app_id: string; project_id: string; sign_key: string; channel?: string; uids?: number[] },
  storage: object | null = placeholderStorage,
) {
  const path = (p: string) => encodeURIComponent(p);
  await sandbox(baseUrl, 'PUT', `/sandbox/projects/${path(ids.app_id)}/${path(ids.project_id)}`, {
    sign_key: ids.sign_key,
    recording_enabled: true,
    storage,
  });
  for (const uid of ids.uids ?? []) {
    await sandbox(baseUrl, 'PUT', `/sandbox/apps/${path(ids.app_id)}/channels/${path(ids.channel!)}/users/${uid}`, {});
  }
}
