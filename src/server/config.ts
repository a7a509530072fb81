// The server's configuration: environment variables over an optional JSON config file over
// named defaults. A bad setting fails at start with a message naming it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../package-root.js';
import { startRateLimitPerSec } from '../spec/api-document.js';
import { parseTrustedProxies } from './client-address.js';
import { specSchedule } from './webhook-events.js';

/** Named defaults of every setting. */
export const defaultConfig = {
  host: '127.0.0.1',
  port: 8787,
  dataDir: '.data',
  /** Seconds the channel must be empty before its recording ends (domain.md: default 30, minimum 3). */
  idleTimeoutSec: 30,
  /** Start requests per second allowed for one app_id (the spec's limit). */
  rateLimitPerSec: startRateLimitPerSec,
  /** Failed authentications a minute allowed from one address, and for one app_id, each counted apart. */
  failedAuthPerMin: 30,
  sandbox: true,
  /** Create the demo project, its channel and an embedded S3-compatible store on first run. */
  demo: true,
  logLevel: 'info' as 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent',
  /** The port of the demo's embedded S3-compatible storage. */
  demoStoragePort: 8788,
  /** Seconds a client has to send a whole request (headers and body) before it is cut off. */
  requestTimeoutSec: 30,
  /** Seconds an idle keep-alive connection is kept open. */
  keepAliveTimeoutSec: 5,
  /** Connections open at once; beyond it new ones are refused, so slow clients cannot use up the file descriptors. */
  maxConnections: 512,
  /** Connections open at once from one address (a trusted proxy excepted), so one client cannot take every slot. */
  maxConnectionsPerAddress: 64,
  /** Proxies whose X-Forwarded-For is believed for the per-address limits: addresses or CIDRs, comma-separated; empty: none. */
  trustProxy: '',
  /** Seconds a shutdown waits for open requests and running work before the process exits anyway. */
  shutdownTimeoutSec: 10,
  /** The token the sandbox API asks for (`Authorization: Bearer`); empty: none, allowed only on a loopback address. */
  adminToken: '',
  /** The key that seals storage secrets at rest, 32 bytes in base64; empty: made and kept in `<dataDir>/secret.key`. */
  secretKey: '',
  /** The folder whose files sandbox users may publish (media_file names one inside it); empty: `<dataDir>/media`. */
  mediaDir: '',
  /** The built docs, served at /docs: where `npm run docs` puts them, or those the server package ships. */
  docsDir: join(packageRoot, 'docs'),
  /** A PostgreSQL database shared by a fleet of nodes (postgres://…); empty: the embedded SQLite file in the data folder. */
  databaseUrl: '',
  /** What this node does: `api` answers HTTP, `worker` records, renders and uploads, `all` both. */
  role: 'all' as 'api' | 'worker' | 'all',
  /** Renders a node runs at once (an ffmpeg run takes about one core); 0: one a core of this machine. */
  renderSlots: 0,
  /**
   * Whether webhook events may go to loopback, private and link-local addresses: `auto` allows them
   * only when the server itself listens on a loopback address (local use), `allow`, or `refuse`.
   */
  webhookPrivateAddresses: 'auto' as 'auto' | 'allow' | 'refuse',
  /** Milliseconds before a webhook event's second attempt (the spec's 10 s); shorter to test a receiver's retries. Later delays follow the spec's factor. */
  webhookFirstDelayMs: specSchedule.firstDelaySec * 1000,
};

export type Config = typeof defaultConfig;

/** Each setting: its environment variable, its key in the config file, and how to read it. */
const settings: { [K in keyof Config]: { env: string; parse: (raw: unknown) => Config[K]; secret?: boolean } } = {
  host: { env: 'CLOUDREC_HOST', parse: (v) => text(v) },
  port: { env: 'CLOUDREC_PORT', parse: (v) => integer(v, 0, 65535) },
  dataDir: { env: 'CLOUDREC_DATA_DIR', parse: (v) => text(v) },
  idleTimeoutSec: { env: 'CLOUDREC_IDLE_TIMEOUT_SEC', parse: (v) => integer(v, 3, 86_400) },
  rateLimitPerSec: { env: 'CLOUDREC_RATE_LIMIT_PER_SEC', parse: (v) => integer(v, 1, 100_000) },
  failedAuthPerMin: { env: 'CLOUDREC_FAILED_AUTH_PER_MIN', parse: (v) => integer(v, 1, 1_000_000) },
  sandbox: { env: 'CLOUDREC_SANDBOX', parse: (v) => flag(v) },
  demo: { env: 'CLOUDREC_DEMO', parse: (v) => flag(v) },
  logLevel: {
    env: 'CLOUDREC_LOG_LEVEL',
    parse: (v) => oneOf(v, ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const),
  },
  demoStoragePort: { env: 'CLOUDREC_DEMO_STORAGE_PORT', parse: (v) => integer(v, 0, 65535) },
  requestTimeoutSec: { env: 'CLOUDREC_REQUEST_TIMEOUT_SEC', parse: (v) => integer(v, 1, 3600) },
  keepAliveTimeoutSec: { env: 'CLOUDREC_KEEP_ALIVE_TIMEOUT_SEC', parse: (v) => integer(v, 1, 3600) },
  maxConnections: { env: 'CLOUDREC_MAX_CONNECTIONS', parse: (v) => integer(v, 1, 1_000_000) },
  maxConnectionsPerAddress: { env: 'CLOUDREC_MAX_CONNECTIONS_PER_ADDRESS', parse: (v) => integer(v, 1, 1_000_000) },
  trustProxy: { env: 'CLOUDREC_TRUST_PROXY', parse: (v) => proxies(v) },
  shutdownTimeoutSec: { env: 'CLOUDREC_SHUTDOWN_TIMEOUT_SEC', parse: (v) => integer(v, 1, 3600) },
  mediaDir: { env: 'CLOUDREC_MEDIA_DIR', parse: (v) => text(v) },
  secretKey: { env: 'CLOUDREC_SECRET_KEY', parse: (v) => text(v), secret: true },
  adminToken: { env: 'CLOUDREC_ADMIN_TOKEN', parse: (v) => token(v), secret: true },
  docsDir: { env: 'CLOUDREC_DOCS_DIR', parse: (v) => text(v) },
  // Secret: its password is never echoed.
  databaseUrl: { env: 'CLOUDREC_DATABASE_URL', parse: (v) => databaseUrl(v), secret: true },
  role: { env: 'CLOUDREC_ROLE', parse: (v) => oneOf(v, ['api', 'worker', 'all'] as const) },
  renderSlots: { env: 'CLOUDREC_RENDER_SLOTS', parse: (v) => integer(v, 0, 1024) },
  webhookPrivateAddresses: { env: 'CLOUDREC_WEBHOOK_PRIVATE_ADDRESSES', parse: (v) => oneOf(v, ['auto', 'allow', 'refuse'] as const) },
  webhookFirstDelayMs: { env: 'CLOUDREC_WEBHOOK_FIRST_DELAY_MS', parse: (v) => integer(v, 100, 3_600_000) },
};

/** The environment variable of each setting, for the README and error messages. */
export const settingVariables = Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.env])) as Record<
  keyof Config,
  string
>;

export class ConfigError extends Error {}

function text(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new Error('must be a non-empty string');
  return v;
}
function proxies(v: unknown): string {
  if (typeof v !== 'string') throw new Error('must be addresses or CIDRs, comma-separated');
  parseTrustedProxies(v);
  return v;
}
function token(v: unknown): string {
  if (typeof v !== 'string' || v.length < 16 || /\s/.test(v)) throw new Error('must be at least 16 characters, without spaces');
  return v;
}
function integer(v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`must be an integer from ${min} to ${max}`);
  }
  return n;
}
function databaseUrl(v: unknown): string {
  if (typeof v !== 'string') throw new Error('must be a postgres:// URL');
  if (v === '') return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error('must be a postgres:// URL, e.g. postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`must be a postgres:// URL, not ${url.protocol}//`);
  return v;
}
function flag(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(s)) return true;
  if (['0', 'false', 'off', 'no'].includes(s)) return false;
  throw new Error('must be on or off (true/false, 1/0)');
}
function oneOf<T extends string>(v: unknown, values: readonly T[]): T {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  throw new Error(`must be one of ${values.join(', ')}`);
}

/**
 * Reads the configuration: `CLOUDREC_*` variables win over the JSON file named by
 * `CLOUDREC_CONFIG` (keys as in {@link defaultConfig}), which wins over the defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let file: Record<string, unknown> = {};
  const path = env.CLOUDREC_CONFIG;
  if (path) {
    try {
      file = JSON.parse(readFileSync(resolve(path), 'utf8'));
    } catch (e) {
      throw new ConfigError(`CLOUDREC_CONFIG (${path}): cannot read it as JSON: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError(`CLOUDREC_CONFIG (${path}): must hold a JSON object`);
    }
    const unknown = Object.keys(file).filter((k) => !(k in settings));
    if (unknown.length) {
      throw new ConfigError(`CLOUDREC_CONFIG (${path}): unknown setting ${unknown.join(', ')}; known: ${Object.keys(settings).join(', ')}`);
    }
  }
  const config = { ...defaultConfig } as Record<string, unknown>;
  for (const [key, setting] of Object.entries(settings) as [keyof Config, (typeof settings)[keyof Config]][]) {
    const fromEnv = env[setting.env];
    const [raw, source] =
      fromEnv !== undefined ? [fromEnv, setting.env] : key in file ? [file[key], `${key} in ${path}`] : [undefined, ''];
    if (raw === undefined) continue;
    try {
      config[key] = setting.parse(raw);
    } catch (e) {
      // A secret's value is never echoed, not even a wrong one.
      throw new ConfigError(`${source}: ${(e as Error).message}${setting.secret ? '' : ` (got ${JSON.stringify(raw)})`}`);
    }
  }
  const loaded = config as Config;
  // Nodes of other roles share the work through the database; alone with its own file, a node does both.
  if (loaded.role !== 'all' && !loaded.databaseUrl) {
    throw new ConfigError(`CLOUDREC_ROLE: ${loaded.role} needs a database shared with the other nodes (CLOUDREC_DATABASE_URL); with the embedded database a server is always all`);
  }
  // On another address than loopback, anyone on the network could drive the sandbox.
  if (loaded.sandbox && !loaded.adminToken && !isLoopback(loaded.host)) {
    throw new ConfigError(
      `CLOUDREC_ADMIN_TOKEN: required when the sandbox API is served on ${loaded.host}, an address other than loopback (or switch the sandbox off: CLOUDREC_SANDBOX=off)`,
    );
  }
  return loaded;
}

/** True for the loopback addresses, where only this machine can connect. */
export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** Whether webhook events may go to loopback, private and link-local addresses, as configured. */
export const webhookAllowsPrivate = (config: Config) =>
  config.webhookPrivateAddresses === 'allow' || (config.webhookPrivateAddresses === 'auto' && isLoopback(config.host));

/** The media folder the configuration names: `mediaDir`, or `<dataDir>/media` when it is empty. */
export const mediaFolder = (config: Config) => config.mediaDir || join(config.dataDir, 'media');
