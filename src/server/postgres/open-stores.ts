// A node's stores on PostgreSQL: connect, apply the schema (once for the whole fleet), check that
// this node seals secrets with the fleet's key, read what the start path keeps in memory and follow
// every node's changes.
import { SecretKeyError, type SecretBox } from '../secret-box.js';
import type { Stores } from '../stores.js';
import { createPgChannels } from './channels.js';
import { openPostgres, type Postgres, type PostgresOptions } from './connection.js';
import { migrate } from './migrations.js';
import { createPgProjectStore } from './project-store.js';
import { createFleetLimits } from './rate-limits.js';
import { createPgTaskStore } from './task-store.js';
import { createPgOutbox } from './webhook-outbox.js';
import { eventFor, type NewEvent } from '../webhook-events.js';

export interface PgStores extends Stores {
  db: Postgres;
  tasks: ReturnType<typeof createPgTaskStore>;
  /** The versions of the schema this node applied (none when another node had). */
  applied: number[];
  /** The schema version the database holds (for GET /readyz). */
  schemaVersion(): Promise<number>;
  /** A value the fleet shares (the demo's sign_key), or undefined. */
  meta(key: string): Promise<string | undefined>;
  /** Sets it unless a node did first; resolves with the value that holds. */
  claimMeta(key: string, value: string): Promise<string>;
  close(): Promise<void>;
}

const keyCheck = 'secret_key_check';

export async function openPgStores(url: string, box: SecretBox, options: PostgresOptions & { now?: () => number } = {}): Promise<PgStores> {
  const db = openPostgres(url, options);
  try {
    const applied = await migrate(db);
    const meta = async (key: string) => (await db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0]?.value;
    const claimMeta = async (key: string, value: string) => {
      await db.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
      return (await meta(key))!;
    };
    // The first node seals a known text; every other must open it, or its projects' secrets would not open.
    try {
      box.open(await claimMeta(keyCheck, box.seal(keyCheck)));
    } catch (error) {
      if (!(error instanceof SecretKeyError)) throw error;
      throw new SecretKeyError(
        "this node's secret key is not the one the database's secrets are sealed with: give every node the same CLOUDREC_SECRET_KEY",
      );
    }
    const projects = createPgProjectStore(db, box);
    const channels = createPgChannels(db, options.now);
    const outbox = createPgOutbox(db);
    const now = options.now ?? Date.now;
    // A state change's events are written in its transaction, for the projects with a webhook then.
    const tasks = createPgTaskStore(db, options.now, (client, changed) =>
      outbox.add(client, changed.map((task) => eventFor(task, projects.get(task.app_id, task.project_id), now())).filter((e): e is NewEvent => e !== undefined)),
    );
    const limits = createFleetLimits(db, options.now);
    await Promise.all([projects.open(), channels.open(), tasks.open(), limits.open()]);
    const close = async () => {
      limits.close();
      await db.close();
    };
    const schemaVersion = async () => Number((await db.query<{ version: number }>('SELECT max(version) AS version FROM schema_migrations')).rows[0]!.version);
    return { db, applied, projects, channels, tasks, outbox, limiter: limits.limiter, schemaVersion, meta, claimMeta, close };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
