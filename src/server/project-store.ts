// Projects: credentials (the sign_key kept only as a salted hash, checked in constant time),
// the recording switch and the storage settings.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SchemaStorageSettings } from '../../generated/sandbox-types.js';
import { statement, transaction, type Db, type Named } from './database.js';
import { PairMap } from './pair-map.js';
import { createSecretBox, type SecretBox } from './secret-box.js';

/** Storage settings as the sandbox API takes them, defaults applied. */
export type StorageSettings = Required<SchemaStorageSettings>;

export interface Project {
  app_id: string;
  project_id: string;
  recording_enabled: boolean;
  storage: StorageSettings | null;
}

interface ProjectRow {
  app_id: string;
  project_id: string;
  key_salt: Uint8Array;
  key_hash: Uint8Array;
  recording_enabled: number;
  storage: string | null;
}

// A fast hash is enough: sign_keys are random service secrets, not passwords people choose.
const hashKey = (key: string, salt: Uint8Array) => hash('sha256', Buffer.concat([salt, Buffer.from(key, 'utf8')]), 'buffer');
// Compared against when the project does not exist, so an unknown project costs the same time.
const decoySalt = randomBytes(16);
const decoyHash = hashKey('decoy', decoySalt);

/**
 * The projects in `db`, storage secrets sealed by `box` (by default under a key of this process
 * alone, for tests and in-memory use). Secrets stored unsealed by an older version are sealed
 * when the store opens.
 */
export function createProjectStore(db: Db, box: SecretBox = createSecretBox(randomBytes(32))) {
  const toProject = (row: ProjectRow): Project => {
    let storage: StorageSettings | null = null;
    if (row.storage) {
      storage = JSON.parse(row.storage) as StorageSettings;
      storage.secret_access_key = box.open(storage.secret_access_key);
    }
    return { app_id: row.app_id, project_id: row.project_id, recording_enabled: row.recording_enabled === 1, storage };
  };
  /** The storage settings as stored: the secret sealed. */
  const stored = (storage: StorageSettings | null) =>
    storage ? JSON.stringify({ ...storage, secret_access_key: box.seal(storage.secret_access_key) }) : null;

  const upsert = statement<[Named]>(
    db,
    `INSERT INTO projects (app_id, project_id, key_salt, key_hash, recording_enabled, storage)
     VALUES (@app_id, @project_id, @key_salt, @key_hash, @recording_enabled, @storage)
     ON CONFLICT (app_id, project_id) DO UPDATE SET key_salt = @key_salt, key_hash = @key_hash,
       recording_enabled = @recording_enabled, storage = @storage`,
  );

  // Every project, read once when the store opens and kept in step by its writes (all of them go
  // through this store; the database is this process's alone, under its exclusive lock).
  // Authenticating a start reads no row and opens no secret, and an unknown project is a miss in
  // the same map, so it costs the time a known one does. Its size is the number of projects, which
  // requests cannot grow. A project is opened on its first use, then shared, so frozen.
  const rows = new PairMap<{ row: ProjectRow; project?: Project }>();
  const read = (appId: string, projectId: string) => rows.get(appId, projectId);
  const opened = (entry: { row: ProjectRow; project?: Project }): Project => {
    if (!entry.project) {
      const project = toProject(entry.row);
      if (project.storage) Object.freeze(project.storage);
      entry.project = Object.freeze(project);
    }
    return entry.project;
  };

  const write = (row: ProjectRow) => {
    upsert.run({ ...row });
    const entry = { row };
    rows.set(row.app_id, row.project_id, entry);
    return opened(entry);
  };

  // Seal what an older version stored in plain text; check that the key opens what is sealed.
  const reseal = statement<[string | null, string, string]>(db, 'UPDATE projects SET storage = ? WHERE app_id = ? AND project_id = ?');
  transaction(db, () => {
    for (const row of statement<[], ProjectRow>(db, 'SELECT * FROM projects').all()) {
      if (row.storage) {
        const storage = JSON.parse(row.storage) as StorageSettings;
        if (box.isSealed(storage.secret_access_key)) {
          box.open(storage.secret_access_key);
        } else {
          row.storage = stored(storage);
          reseal.run(row.storage, row.app_id, row.project_id);
        }
      }
      rows.set(row.app_id, row.project_id, { row });
    }
  });

  return {
    get(appId: string, projectId: string): Readonly<Project> | undefined {
      const entry = read(appId, projectId);
      return entry && opened(entry);
    },

    /** The project when `signKey` is its key; undefined otherwise, in time independent of why. */
    authenticate(appId: string, projectId: string, signKey: string): Readonly<Project> | undefined {
      const entry = read(appId, projectId);
      const hash = hashKey(signKey, entry?.row.key_salt ?? decoySalt);
      const match = timingSafeEqual(hash, entry?.row.key_hash ?? decoyHash);
      return entry && match ? opened(entry) : undefined;
    },

    /** Creates or replaces a project. */
    put(appId: string, projectId: string, settings: { sign_key: string; recording_enabled: boolean; storage: StorageSettings | null }) {
      const salt = randomBytes(16);
      return write({
        app_id: appId,
        project_id: projectId,
        key_salt: salt,
        key_hash: hashKey(settings.sign_key, salt),
        recording_enabled: settings.recording_enabled ? 1 : 0,
        storage: stored(settings.storage),
      });
    },

    /** Changes the settings given; undefined when there is no such project. */
    patch(
      appId: string,
      projectId: string,
      changes: { sign_key?: string; recording_enabled?: boolean; storage?: StorageSettings | null },
    ): Project | undefined {
      const row = read(appId, projectId)?.row;
      if (!row) return undefined;
      const salt = changes.sign_key === undefined ? row.key_salt : randomBytes(16);
      return write({
        ...row,
        key_salt: salt,
        key_hash: changes.sign_key === undefined ? row.key_hash : hashKey(changes.sign_key, salt),
        recording_enabled: changes.recording_enabled === undefined ? row.recording_enabled : changes.recording_enabled ? 1 : 0,
        storage: changes.storage === undefined ? row.storage : stored(changes.storage),
      });
    },
  };
}

export type ProjectStore = ReturnType<typeof createProjectStore>;

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
