// The server's SQLite database: opened durable (every accepted task is on disk before its id is
// answered) and migrated to the current schema.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
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
];

/** Opens (creating if needed) the database at `path`, or in memory for ':memory:'. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before better-sqlite3 returns, so an answered task_id survives a crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return db;
}
