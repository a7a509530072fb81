// Projects as the store keeps them in memory: every write seen by the next authentication, in this
// store and in one opened later on the same database.
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { openDatabase } from '../../src/server/database.js';
import { createProjectStore } from '../../src/server/project-store.js';
import { createSecretBox } from '../../src/server/secret-box.js';

const storage = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'b', access_key_id: 'a', secret_access_key: 'secret', prefix: '', force_path_style: true };

test('a changed key, switch or storage is what the next authentication sees, here and after reopening', () => {
  const db = openDatabase(':memory:');
  const box = createSecretBox(randomBytes(32));
  const projects = createProjectStore(db, box);
  expect(projects.authenticate('app', 'proj', 'old-key')).toBeUndefined();
  projects.put('app', 'proj', { sign_key: 'old-key', recording_enabled: true, storage: null });
  expect(projects.authenticate('app', 'proj', 'old-key')).toMatchObject({ recording_enabled: true, storage: null });
  projects.patch('app', 'proj', { sign_key: 'new-key', recording_enabled: false, storage });
  expect(projects.authenticate('app', 'proj', 'old-key')).toBeUndefined();
  expect(projects.authenticate('app', 'proj', 'new-key')).toMatchObject({ recording_enabled: false, storage });
  expect(projects.authenticate('app', 'other', 'new-key')).toBeUndefined();

  const reopened = createProjectStore(db, box);
  expect(reopened.authenticate('app', 'proj', 'new-key')).toMatchObject({ recording_enabled: false, storage });
  expect(reopened.get('app', 'proj')).toEqual(projects.get('app', 'proj'));
});

test('a project handed out cannot be changed by whoever holds it', () => {
  const projects = createProjectStore(openDatabase(':memory:'));
  projects.put('app', 'proj', { sign_key: 'key', recording_enabled: true, storage });
  const project = projects.get('app', 'proj')!;
  expect(() => Object.assign(project, { recording_enabled: false })).toThrow(TypeError);
  expect(() => Object.assign(project.storage!, { bucket: 'elsewhere' })).toThrow(TypeError);
  expect(projects.get('app', 'proj')).toMatchObject({ recording_enabled: true, storage: { bucket: 'b' } });
});

test("one project's key never opens another's: pairs that would join into the same string stay apart", () => {
  const projects = createProjectStore(openDatabase(':memory:'));
  // The pairs the spec's Identifier pattern refuses at the door; the store keeps them apart anyway.
  projects.put('victim\0x', 'p', { sign_key: 'attacker-key', recording_enabled: true, storage });
  expect(projects.authenticate('victim', 'x\0p', 'attacker-key')).toBeUndefined();
  expect(projects.get('victim', 'x\0p')).toBeUndefined();
  expect(projects.authenticate('victim\0x', 'p', 'attacker-key')).toBeDefined();
});
