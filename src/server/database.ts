// The server's SQLite database, on Node's built-in driver (node:sqlite): opened durable (every
// accepted task is on disk before its id is answered) and migrated to the current schema.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges } from 'node:sqlite';

export type Db = DatabaseSync;

/** A prepared statement with its parameters and rows typed; a cast of node:sqlite's, nothing in between. */
export interface Statement<Params extends unknown[] = SQLInputValue[], Row = Record<string, unknown>> {
  run(...params: Params): StatementResultingChanges;
  get(...params: Params): Row | undefined;
  all(...params: Params): Row[];
}

/** Named parameters: `@name` in the SQL, `name` in the object. */
export type Named = Record<string, SQLInputValue>;

export const statement = <Params extends unknown[] = SQLInputValue[], Row = Record<string, unknown>>(db: Db, sql: string) =>
  db.prepare(sql) as unknown as Statement<Params, Row>;

/** A pragma's value (the first column of its first row). */
export function pragma(db: Db, name: string): unknown {
  const row = db.prepare(`PRAGMA ${name}`).get();
  return row && Object.values(row)[0];
}

/** Runs `work` in one transaction (a savepoint when one is open already): one commit, one fsync. */
export function transaction<T>(db: Db, work: () => T): T {
  const nested = db.isTransaction;
  db.exec(nested ? 'SAVEPOINT nested' : 'BEGIN');
  try {
    const result = work();
    db.exec(nested ? 'RELEASE nested' : 'COMMIT');
    return result;
  } catch (error) {
    // A failed COMMIT (a full disk) may have rolled back already.
    if (db.isTransaction) db.exec(nested ? 'ROLLBACK TO nested; RELEASE nested' : 'ROLLBACK');
    throw error;
  }
}

// SQLite's primary result codes (the low byte of an extended one) that the server tells apart.
const resultCodes: Record<number, string> = {
  3: 'SQLITE_PERM', 5: 'SQLITE_BUSY', 8: 'SQLITE_READONLY', 11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 26: 'SQLITE_NOTADB',
};

/** SQLite's name for the failure (`SQLITE_FULL`, …), from node:sqlite's numeric `errcode`; undefined for other errors. */
export function sqliteCode(error: unknown): string | undefined {
  const { errcode } = (error ?? {}) as { errcode?: unknown };
  return typeof errcode === 'number' ? (resultCodes[errcode & 0xff] ?? `SQLITE_${errcode}`) : undefined;
}

/** Schema versions, applied in order; never edit one that has shipped, add the next. */
const migrations = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE projects (
     app_id TEXT NOT NULL, project_id TEXT NOT NULL,
     key_salt BLOB NOT NULL, key_hash BLOB NOT NULL,
     recording_enabled INTEGER NOT NULL,
     storage TEXT,
     PRIMARY KEY (app_id, project_id));
   CREATE TABLE memberships (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     app_id TEXT NOT NULL, channel TEXT NOT NULL, uid INTEGER NOT NULL,
     audio INTEGER NOT NULL, video INTEGER NOT NULL, dual_stream INTEGER NOT NULL, media_file TEXT,
     join_seq INTEGER NOT NULL,
     joined_at INTEGER NOT NULL, left_at INTEGER);
   CREATE INDEX memberships_channel ON memberships (app_id, channel, left_at);
   CREATE TABLE tasks (
     task_id INTEGER PRIMARY KEY AUTOINCREMENT,
     app_id TEXT NOT NULL, project_id TEXT NOT NULL, channel TEXT NOT NULL,
     settings TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT,
     failure_reason TEXT,
     files TEXT NOT NULL DEFAULT '[]',
     progress TEXT);
   CREATE INDEX tasks_channel_state ON tasks (app_id, channel, state);`,
  // The next join's place (MAX(join_seq)) read from an index, not by scanning every membership.
  `CREATE INDEX memberships_join_seq ON memberships (join_seq);`,
  // The tasks in one state (the runner's recording, finalizing and uploading ones; the metrics' counts)
  // read from an index, not by scanning every task ever made.
  `CREATE INDEX tasks_state ON tasks (state, task_id);`,
  // A project's webhook (its URL and sealed secrets), as JSON.
  `ALTER TABLE projects ADD COLUMN webhook TEXT;`,
  // Webhook events waiting to be sent, and those sent (with their attempts, as JSON). A task's
  // events are read in order by (task_id, seq); a project's pending ones from a partial index, so a
  // sender's claims grow neither with the events ever made nor with another project's backlog.
  // Event ids are random (122 bits) and never looked up, so they have no index to keep.
  `CREATE TABLE webhook_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL,
     task_id INTEGER NOT NULL, app_id TEXT NOT NULL, project_id TEXT NOT NULL,
     type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
     state TEXT NOT NULL, next_at INTEGER,
     given_up_reason TEXT, attempts TEXT NOT NULL DEFAULT '[]');
   CREATE INDEX webhook_events_task ON webhook_events (task_id, seq);
   CREATE INDEX webhook_events_due ON webhook_events (app_id, project_id, next_at) WHERE state = 'pending';`,
];

/** The schema version this code needs (the readiness check compares it with the file's). */
export const sqliteSchemaVersion = migrations.length;

/** The schema version the open database holds. */
export const storedSchemaVersion = (db: Db) => Number(pragma(db, 'user_version'));

/** A database that cannot be used as it is: the message names the file, what is wrong, and what to do. */
export class DatabaseError extends Error {}

const advice = (path: string) =>
  `Restore ${path} from a backup, or move it (and any ${path}-wal and ${path}-shm beside it) aside to start with an empty database.`;

/**
 * Opens (creating if needed) the database at `path`, or in memory for ':memory:'; checks it first.
 * `usedBefore`: its folder shows an earlier start (SQLite would take an empty file for a new database).
 */
export function openDatabase(path: string, { usedBefore = false } = {}): Db {
  if (path === ':memory:') return prepare(new DatabaseSync(path));
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new DatabaseError(`The database ${path} is not a file (a directory or something else is in its place). ${advice(path)}`);
  }
  // Ids are never reused: an emptied file in a folder that was in use is a loss to report, not a start.
  if (usedBefore && existsSync(path) && statSync(path).size === 0) {
    throw new DatabaseError(`The database ${path} is empty (0 bytes), though its folder was in use before: its projects and tasks are gone. ${advice(path)}`);
  }
  let db: Db | undefined;
  try {
    // A second server on the same folder is told at once, not after the default 5 s of waiting.
    db = new DatabaseSync(path, { timeout: 200 });
    // A quick check reads every page's structure: a damaged page is found now, not when a task is read.
    const problems = db.prepare('PRAGMA quick_check').all().map((row) => String(row.quick_check)).filter((r) => r !== 'ok');
    if (problems.length) throw new DatabaseError(`The database ${path} is damaged (${problems.slice(0, 3).join('; ')}). ${advice(path)}`);
    return prepare(db);
  } catch (error) {
    db?.close();
    if (error instanceof DatabaseError) throw error;
    const code = sqliteCode(error);
    const what =
      code === 'SQLITE_NOTADB' ? 'is not a SQLite database (its header is not one)'
      : code === 'SQLITE_CORRUPT' ? 'is damaged'
      : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' ? 'cannot be opened for writing (check its permissions and its folder)'
      : code === 'SQLITE_FULL' ? 'cannot be written: the disk is full'
      : code === 'SQLITE_BUSY' ? 'is in use by another process (another cloudrec server on the same data folder?)'
      : `cannot be opened (${(error as Error).message})`;
    const todo = code === 'SQLITE_FULL' ? 'Free some space and start again.' : code === 'SQLITE_BUSY' ? 'Stop that process, or give this server a data folder of its own.' : advice(path);
    throw new DatabaseError(`The database ${path} ${what}. ${todo}`);
  }
}

function prepare(db: Db): Db {
  // One server process owns its database: holding the lock saves every statement the file-lock
  // calls (four a start), and a second server on the same data folder is refused, not let in.
  pragma(db, 'locking_mode = EXCLUSIVE');
  pragma(db, 'journal_mode = WAL');
  // FULL: a commit is on disk before the statement returns, so an answered task_id survives a crash.
  pragma(db, 'synchronous = FULL');
  pragma(db, 'foreign_keys = ON');
  const version = Number(pragma(db, 'user_version'));
  if (version > migrations.length) {
    throw new DatabaseError(`The database ${db.location() ?? ':memory:'} was written by a newer cloudrec (schema ${version}, this one knows ${migrations.length}). Run that version, or restore a backup.`);
  }
  transaction(db, () => {
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    db.exec(`PRAGMA user_version = ${migrations.length}`);
  });
  return db;
}
