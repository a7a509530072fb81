// The server's SQLite database: opened durable (every accepted task is on disk before its id is
// answered) and migrated to the current schema.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

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
];

/** A database that cannot be used as it is: the message names the file, what is wrong, and what to do. */
export class DatabaseError extends Error {}

const advice = (path: string) =>
  `Restore ${path} from a backup, or move it (and any ${path}-wal and ${path}-shm beside it) aside to start with an empty database.`;

/** Opens (creating if needed) the database at `path`, or in memory for ':memory:'; checks it first. */
export function openDatabase(path: string): Db {
  if (path === ':memory:') return prepare(new Database(path));
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new DatabaseError(`The database ${path} is not a file (a directory or something else is in its place). ${advice(path)}`);
  }
  let db: Db | undefined;
  try {
    // A second server on the same folder is told at once, not after the default 5 s of waiting.
    db = new Database(path, { timeout: 200 });
    // A quick check reads every page's structure: a damaged page is found now, not when a task is read.
    const problems = (db.pragma('quick_check') as { quick_check: string }[]).map((row) => row.quick_check).filter((r) => r !== 'ok');
    if (problems.length) throw new DatabaseError(`The database ${path} is damaged (${problems.slice(0, 3).join('; ')}). ${advice(path)}`);
    return prepare(db);
  } catch (error) {
    db?.close();
    if (error instanceof DatabaseError) throw error;
    const code = (error as { code?: string }).code;
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
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before better-sqlite3 returns, so an answered task_id survives a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new DatabaseError(`The database ${db.name} was written by a newer cloudrec (schema ${version}, this one knows ${migrations.length}). Run that version, or restore a backup.`);
  }
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return db;
}
