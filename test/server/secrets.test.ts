// Storage secrets at rest: sealed with AES-256-GCM in SQLite, under a key from the environment or
// one the server keeps in its data folder (0600); never in plain text there, never echoed.
import { DatabaseSync } from 'node:sqlite';
import { statSync, chmodSync } from 'node:fs';

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { defaultConfig, loadConfig, ConfigError } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/database.js';
import { createProjectStore } from '../../src/server/project-store.js';
import { createSecretBox, loadSecretKey, SecretKeyError } from '../../src/server/secret-box.js';
import { tempDir } from '../support/temp-dir.js';

const secret = 'storage-secret-that-must-never-show';
const storage = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', bucket: 'recordings', access_key_id: 'AKIA', secret_access_key: secret, prefix: '', force_path_style: true };

describe('storage secrets at rest', () => {
  test('are sealed in the database file and open again with the same key after a restart', () => {
    const dir = tempDir('cloudrec-secrets-');
    const file = join(dir, 'cloudrec.db');
    const { key } = loadSecretKey('', dir);
    const db = openDatabase(file);
    createProjectStore(db, createSecretBox(key)).put('app', 'proj', { sign_key: 'k', recording_enabled: true, storage });
    // The server holds its database's lock while it runs: the file is read once it is closed.
    db.close();
    const reader = new DatabaseSync(file, { readOnly: true });
    const raw = reader.prepare('SELECT storage FROM projects').get() as { storage: string };
    reader.close();
    expect(raw.storage).not.toContain(secret);
    expect(JSON.parse(raw.storage).secret_access_key).toMatch(/^sealed:v1:/);
    const reopened = createProjectStore(openDatabase(file), createSecretBox(loadSecretKey('', dir).key));
    expect(reopened.get('app', 'proj')?.storage?.secret_access_key).toBe(secret);
  });

  test('stored in plain text by an older version are sealed when the store opens', () => {
    const db = openDatabase(':memory:');
    db.prepare(`INSERT INTO projects (app_id, project_id, key_salt, key_hash, recording_enabled, storage) VALUES ('a', 'p', x'00', x'00', 1, ?)`).run(JSON.stringify(storage));
    const projects = createProjectStore(db, createSecretBox(Buffer.alloc(32, 7)));
    expect((db.prepare('SELECT storage FROM projects').get() as { storage: string }).storage).not.toContain(secret);
    expect(projects.get('a', 'p')?.storage?.secret_access_key).toBe(secret);
  });

  test('under another key do not open: the store refuses to start, saying why', () => {
    const db = openDatabase(':memory:');
    createProjectStore(db, createSecretBox(Buffer.alloc(32, 1))).put('a', 'p', { sign_key: 'k', recording_enabled: true, storage });
    expect(() => createProjectStore(db, createSecretBox(Buffer.alloc(32, 2)))).toThrow(SecretKeyError);
    expect(() => createProjectStore(db, createSecretBox(Buffer.alloc(32, 2)))).toThrow(/does not open with this secret key/);
  });
});

describe('the secret key', () => {
  test('is made on first run in the data folder, readable by its owner only, and kept', () => {
    const dir = tempDir('cloudrec-key-');
    const first = loadSecretKey('', dir);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    chmodSync(join(dir, 'secret.key'), 0o644);
    expect(loadSecretKey('', dir).key.equals(first.key)).toBe(true);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  test('given in CLOUDREC_SECRET_KEY is used; a malformed one is refused without being echoed', () => {
    const given = Buffer.alloc(32, 9).toString('base64');
    expect(loadSecretKey(given, '/nonexistent').key.equals(Buffer.alloc(32, 9))).toBe(true);
    expect(() => loadSecretKey('too-short-key', '/nonexistent')).toThrow(/32 bytes in base64/);
    expect(() => loadSecretKey('too-short-key', '/nonexistent')).not.toThrow(/too-short-key/);
    let message = '';
    try {
      loadConfig({ CLOUDREC_SECRET_KEY: '   ' });
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message).toMatch(/^CLOUDREC_SECRET_KEY: /);
  });
});

test('the sandbox refuses a storage endpoint with a user name or password in it, and never echoes one', async () => {
  const { app } = buildApp({ config: { ...defaultConfig, logLevel: 'silent' }, db: openDatabase(':memory:') });
  const answer = await app.inject({
    method: 'PUT',
    url: '/sandbox/projects/a/p',
    headers: { 'content-type': 'application/json' },
    payload: { sign_key: 'k', storage: { ...storage, endpoint: 'http://user:pass-word@127.0.0.1:9000' } },
  });
  expect(answer.statusCode).toBe(400);
  expect(answer.json()).toMatchObject({ code: 'invalid_parameter', message: expect.stringContaining('storage.endpoint') });
  expect(answer.body).not.toContain('pass-word');
  await app.close();
});
