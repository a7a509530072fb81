// A damaged database is found at start and named, with what to do, instead of a stack trace.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DatabaseError, openDatabase, pragma } from '../../src/server/database.js';
import { createTaskStore } from '../../src/server/task-store.js';
import { projectRoot } from '../support/prism.js';
import { tempDir } from '../support/temp-dir.js';

const folder = () => tempDir('cloudrec-db-');

/** A real database with some tasks, closed, its WAL folded into the file. */
function databaseWithTasks(dir: string) {
  const path = join(dir, 'cloudrec.db');
  const db = openDatabase(path);
  const tasks = createTaskStore(db);
  const settings = { isAudioOnly: 0, isVideoOnly: 0, is_mixing_enabled: 0, mixed_video_audio: 2, layout_mode: 0, stream_type: 0, audioProfile: 0, mixResolution: '360,640,15,500' } as const;
  for (let i = 0; i < 400; i++) tasks.create({ app_id: 'a', project_id: 'p', channel: `c${i}`, settings });
  pragma(db, 'wal_checkpoint(TRUNCATE)');
  db.close();
  return path;
}

describe('opening a database another server holds', () => {
  test('is refused at once, naming the reason and what to do', () => {
    const path = join(folder(), 'cloudrec.db');
    const first = openDatabase(path);
    expect(() => openDatabase(path)).toThrow(
      new RegExp(`^The database ${path} is in use by another process \\(another cloudrec server on the same data folder\\?\\)\\. Stop that process, or give this server a data folder of its own\\.$`),
    );
    first.close();
    openDatabase(path).close();
  });
});

describe('opening a damaged database', () => {
  test('a broken header: not a SQLite database, named, with what to do', () => {
    const path = join(folder(), 'cloudrec.db');
    writeFileSync(path, 'this is not a database at all, just text');
    expect(() => openDatabase(path)).toThrow(DatabaseError);
    expect(() => openDatabase(path)).toThrow(new RegExp(`^The database ${path} is not a SQLite database .*Restore .* from a backup, or move it`));
  });

  test('a truncated file: damaged, found by the quick check at start', () => {
    const path = databaseWithTasks(folder());
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => openDatabase(path)).toThrow(/is damaged|is not a SQLite database/);
  });

  test('a damaged page in the middle: found at start, not when the task is read', () => {
    const path = databaseWithTasks(folder());
    const bytes = readFileSync(path);
    bytes.fill(0xff, 4096 * 3, 4096 * 3 + 512); // inside a page of the tasks table
    writeFileSync(path, bytes);
    expect(() => openDatabase(path)).toThrow(/^The database .* is damaged/);
  });

  test('an empty file in a folder used before: refused, saying the projects and tasks are gone; in a new folder, a new database', () => {
    const path = join(folder(), 'cloudrec.db');
    writeFileSync(path, '');
    expect(() => openDatabase(path, { usedBefore: true })).toThrow(
      new RegExp(`^The database ${path} is empty \\(0 bytes\\), though its folder was in use before: its projects and tasks are gone\\. Restore .* from a backup, or move it`),
    );
    const fresh = join(folder(), 'cloudrec.db');
    writeFileSync(fresh, '');
    openDatabase(fresh, { usedBefore: false }).close();
  });

  test('a directory in its place', () => {
    const path = join(folder(), 'cloudrec.db');
    mkdirSync(path);
    expect(() => openDatabase(path)).toThrow(/is not a file \(a directory or something else is in its place\)/);
  });

  test('the server says so and exits 2, without a stack trace', () => {
    const dir = folder();
    writeFileSync(join(dir, 'cloudrec.db'), 'garbage'.repeat(100));
    let result = { status: 0, stderr: '' };
    try {
      execFileSync('node', [join(projectRoot, 'dist/src/server/main.js')], { env: { ...process.env, CLOUDREC_DATA_DIR: dir, CLOUDREC_DEMO: 'off' }, stdio: 'pipe', encoding: 'utf8' });
    } catch (error) {
      result = error as { status: number; stderr: string };
    }
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^cloudrec: The database .*cloudrec\.db is not a SQLite database/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('the server refuses an emptied database beside its secret.key (exit 2), and ids are not started again at 1', () => {
    const dir = folder();
    writeFileSync(join(dir, 'secret.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'cloudrec.db'), '');
    let result = { status: 0, stderr: '' };
    try {
      execFileSync('node', [join(projectRoot, 'dist/src/server/main.js')], { env: { ...process.env, CLOUDREC_DATA_DIR: dir, CLOUDREC_DEMO: 'off', CLOUDREC_PORT: '0' }, stdio: 'pipe', encoding: 'utf8', timeout: 20_000 });
    } catch (error) {
      result = error as { status: number; stderr: string };
    }
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^cloudrec: The database .*cloudrec\.db is empty \(0 bytes\), though its folder was in use before/);
    expect(readFileSync(join(dir, 'cloudrec.db'))).toHaveLength(0);
  });
});
