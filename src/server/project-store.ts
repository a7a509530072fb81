// Projects: credentials (the sign_key kept only as a salted hash, checked in constant time),
// the recording switch and the storage settings.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SchemaStorageSettings } from '../../generated/sandbox-types.js';
import { statement, transaction, type Db, type Named } from './database.js';
import { PairMap } from './pair-map.js';
import { createSecretBox, type SecretBox } from './secret-box.js';

/** Storage settings as the sandbox API takes them, defaults applied. */
export type StorageSettings = Required<SchemaStorageSettings>;

/** Where a project's events are sent, and the secrets that sign them (the previous one while a rotation overlaps). */
export interface Webhook {
  url: string;
  secret: string;
  previous_secret: string | null;
  /** When the previous secret stops signing (epoch ms). */
  previous_until: number | null;
}

export interface Project {
  app_id: string;
  project_id: string;
  recording_enabled: boolean;
  storage: StorageSettings | null;
  webhook: Webhook | null;
}

/** A project as stored: the key's salt and hash, the storage settings in JSON with the secret sealed. */
export interface ProjectRow {
  app_id: string;
  project_id: string;
  key_salt: Uint8Array;
  key_hash: Uint8Array;
  recording_enabled: boolean;
  storage: string | null;
  /** The webhook in JSON, its secrets sealed. */
  webhook: string | null;
}

/** The settings a project is created with, and those a change may give (a new project has no webhook). */
export interface ProjectSettings {
  sign_key: string;
  recording_enabled: boolean;
  storage: StorageSettings | null;
  webhook?: Webhook | null;
}

// A fast hash is enough: sign_keys are random service secrets, not passwords people choose.
const hashKey = (key: string, salt: Uint8Array) => hash('sha256', Buffer.concat([salt, Buffer.from(key, 'utf8')]), 'buffer');
// Compared against when the project does not exist, so an unknown project costs the same time.
const decoySalt = randomBytes(16);
const decoyHash = hashKey('decoy', decoySalt);

/**
 * The projects a node knows, in memory, whatever keeps them (SQLite here, PostgreSQL in a fleet):
 * authenticating a start reads no row and opens no secret, and an unknown project is a miss in the
 * same map, so it costs the time a known one does. Its size is the number of projects, which
 * requests cannot grow. A project is opened on its first use, then shared, so frozen. Also makes
 * the rows a write stores, secrets sealed by `box`.
 */
export function createProjectCache(box: SecretBox) {
  const rows = new PairMap<{ row: ProjectRow; project?: Project }>();
  const opened = (entry: { row: ProjectRow; project?: Project }): Project => {
    if (!entry.project) {
      const { row } = entry;
      let storage: StorageSettings | null = null;
      if (row.storage) {
        storage = JSON.parse(row.storage) as StorageSettings;
        storage.secret_access_key = box.open(storage.secret_access_key);
        Object.freeze(storage);
      }
      let webhook: Webhook | null = null;
      if (row.webhook) {
        const sealed = JSON.parse(row.webhook) as Webhook;
        webhook = Object.freeze({ ...sealed, secret: box.open(sealed.secret), previous_secret: sealed.previous_secret && box.open(sealed.previous_secret) });
      }
      entry.project = Object.freeze({ app_id: row.app_id, project_id: row.project_id, recording_enabled: row.recording_enabled, storage, webhook });
    }
    return entry.project;
  };
  /** The storage settings as stored: the secret sealed. */
  const stored = (storage: StorageSettings | null) =>
    storage ? JSON.stringify({ ...storage, secret_access_key: box.seal(storage.secret_access_key) }) : null;
  /** The webhook as stored: its secrets sealed. */
  const storedWebhook = (webhook: Webhook | null | undefined) =>
    webhook ? JSON.stringify({ ...webhook, secret: box.seal(webhook.secret), previous_secret: webhook.previous_secret && box.seal(webhook.previous_secret) }) : null;

  return {
    /** Keeps `row` (a project written or read); returns the project. */
    set(row: ProjectRow): Project {
      const entry = { row };
      rows.set(row.app_id, row.project_id, entry);
      return opened(entry);
    },
    clear: () => rows.clear(),
    row: (appId: string, projectId: string) => rows.get(appId, projectId)?.row,
    get(appId: string, projectId: string): Readonly<Project> | undefined {
      const entry = rows.get(appId, projectId);
      return entry && opened(entry);
    },
    /** The project when `signKey` is its key; undefined otherwise, in time independent of why. */
    authenticate(appId: string, projectId: string, signKey: string): Readonly<Project> | undefined {
      const entry = rows.get(appId, projectId);
      const hash = hashKey(signKey, entry?.row.key_salt ?? decoySalt);
      const match = timingSafeEqual(hash, entry?.row.key_hash ?? decoyHash);
      return entry && match ? opened(entry) : undefined;
    },
    /** The row of a new (or replaced) project. */
    newRow(appId: string, projectId: string, settings: ProjectSettings): ProjectRow {
      const salt = randomBytes(16);
      return {
        app_id: appId,
        project_id: projectId,
        key_salt: salt,
        key_hash: hashKey(settings.sign_key, salt),
        recording_enabled: settings.recording_enabled,
        storage: stored(settings.storage),
        webhook: storedWebhook(settings.webhook),
      };
    },
    /** `row` with `changes` made; what is not given stays. */
    changedRow(row: ProjectRow, changes: Partial<ProjectSettings>): ProjectRow {
      const salt = changes.sign_key === undefined ? row.key_salt : randomBytes(16);
      return {
        ...row,
        key_salt: salt,
        key_hash: changes.sign_key === undefined ? row.key_hash : hashKey(changes.sign_key, salt),
        recording_enabled: changes.recording_enabled ?? row.recording_enabled,
        storage: changes.storage === undefined ? row.storage : stored(changes.storage),
        webhook: changes.webhook === undefined ? row.webhook : storedWebhook(changes.webhook),
      };
    },
    /** `row` with its storage secret sealed (an older version stored it in plain text), or undefined when it is; a sealed secret is opened to check the key. */
    resealed(row: ProjectRow): ProjectRow | undefined {
      if (!row.storage) return undefined;
      const storage = JSON.parse(row.storage) as StorageSettings;
      if (box.isSealed(storage.secret_access_key)) {
        box.open(storage.secret_access_key);
        return undefined;
      }
      return { ...row, storage: stored(storage) };
    },
  };
}

export type ProjectCache = ReturnType<typeof createProjectCache>;

/**
 * The projects in `db`, storage secrets sealed by `box` (by default under a key of this process
 * alone, for tests and in-memory use). Secrets stored unsealed by an older version are sealed
 * when the store opens. Every project is read once when the store opens and kept in step by its
 * writes (all of them go through this store; the database is this process's alone, under its
 * exclusive lock).
 */
export function createProjectStore(db: Db, box: SecretBox = createSecretBox(randomBytes(32))) {
  const cache = createProjectCache(box);
  const upsert = statement<[Named]>(
    db,
    `INSERT INTO projects (app_id, project_id, key_salt, key_hash, recording_enabled, storage, webhook)
     VALUES (@app_id, @project_id, @key_salt, @key_hash, @recording_enabled, @storage, @webhook)
     ON CONFLICT (app_id, project_id) DO UPDATE SET key_salt = @key_salt, key_hash = @key_hash,
       recording_enabled = @recording_enabled, storage = @storage, webhook = @webhook`,
  );
  const write = (row: ProjectRow) => {
    upsert.run({ ...row, recording_enabled: row.recording_enabled ? 1 : 0 });
    return cache.set(row);
  };

  // Seal what an older version stored in plain text; check that the key opens what is sealed.
  const reseal = statement<[string | null, string, string]>(db, 'UPDATE projects SET storage = ? WHERE app_id = ? AND project_id = ?');
  transaction(db, () => {
    for (const stored of statement<[], Omit<ProjectRow, 'recording_enabled'> & { recording_enabled: number }>(db, 'SELECT * FROM projects').all()) {
      let row: ProjectRow = { ...stored, recording_enabled: stored.recording_enabled === 1 };
      const resealed = cache.resealed(row);
      if (resealed) {
        row = resealed;
        reseal.run(row.storage, row.app_id, row.project_id);
      }
      cache.set(row);
    }
  });

  return {
    get: cache.get,
    authenticate: cache.authenticate,
    /** Creates or replaces a project. */
    put: (appId: string, projectId: string, settings: ProjectSettings) => write(cache.newRow(appId, projectId, settings)),
    /** Changes the settings given; undefined when there is no such project. */
    patch(appId: string, projectId: string, changes: Partial<ProjectSettings>): Project | undefined {
      const row = cache.row(appId, projectId);
      return row && write(cache.changedRow(row, changes));
    },
  };
}

export type ProjectStore = ReturnType<typeof createProjectStore>;

/** A project's webhook without its secrets, as the sandbox API answers it. */
export const webhookSummary = (webhook: Webhook | null, now: number) =>
  webhook && { url: webhook.url, previous_secret_expires_at: webhook.previous_until && webhook.previous_until > now ? new Date(webhook.previous_until).toISOString() : null };

/** A project's storage settings without the secret, as the sandbox API answers them. */
export function storageSummary(storage: StorageSettings | null) {
  if (!storage) return null;
  const { secret_access_key: _secret, ...summary } = storage;
  return { ...summary, endpoint: withoutUserinfo(summary.endpoint) };
}

/** An endpoint without any user name or password in it (the API refuses them; older rows may have one). */
function withoutUserinfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (!url.username && !url.password) return endpoint;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return endpoint;
  }
}
