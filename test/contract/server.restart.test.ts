// What the server acknowledged survives a crash: the process is killed (SIGKILL, no shutdown)
// right after the answers, restarted on the same data folder, and asked again.
import { afterAll, expect, test } from 'vitest';
import { arrangeProject, postStart, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';

const servers: ReferenceServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
  servers[0]?.remove();
});


test('tasks acknowledged before a crash are all there after a restart, and ids continue', async () => {
  const first = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' });
  servers.push(first);
  const project = { app_id: 'restart-app', project_id: 'restart-proj', sign_key: 'restart-key' };
  await arrangeProject(first.baseUrl, project);
  const acknowledged: { task_id: number; channel: string }[] = [];
  for (let i = 0; i < 12; i++) {
    const channel = `room-${i}`;
    await sandbox(first.baseUrl, 'PUT', `/sandbox/apps/${project.app_id}/channels/${channel}/users/${100 + i}`, {});
    const response = await postStart(first.baseUrl, { ...project, channel, is_mixing_enabled: i % 2 });
    expect(response.status).toBe(200);
    acknowledged.push({ task_id: ((await response.json()) as { task_id: number }).task_id, channel });
  }
  await first.stop('SIGKILL');

  const second = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '1000' }, first.dataDir);
  servers.push(second);
  const { tasks } = (await sandbox(second.baseUrl, 'GET', '/sandbox/tasks')) as { tasks: { task_id: number; channel: string; settings: { is_mixing_enabled: number } }[] };
  for (const [i, task] of acknowledged.entries()) {
    const kept = tasks.find((t) => t.task_id === task.task_id);
    expect(kept, `task ${task.task_id}`).toMatchObject({ channel: task.channel, settings: { is_mixing_enabled: i % 2 } });
  }

  // The project, its key and the channel's users survived too: a new start is accepted, with a higher id.
  await sandbox(second.baseUrl, 'PUT', `/sandbox/apps/${project.app_id}/channels/new-room/users/1`, {});
  const after = await postStart(second.baseUrl, { ...project, channel: 'new-room' });
  expect(after.status).toBe(200);
  const newId = ((await after.json()) as { task_id: number }).task_id;
  expect(newId).toBeGreaterThan(Math.max(...acknowledged.map((t) => t.task_id)));

  // An identical repeat of a task from before the crash is still recognised as that task.
  const repeat = await postStart(second.baseUrl, { ...project, channel: 'room-1', is_mixing_enabled: 1 });
  expect(repeat.status).toBe(200);
  expect(((await repeat.json()) as { task_id: number }).task_id).toBe(acknowledged[1]!.task_id);
}, 60_000);

test('task ids are never reused, even when the newest task is deleted from the database by hand', async () => {
  // AUTOINCREMENT keeps the high-water mark in sqlite_sequence; this pins that choice down.
  const { openDatabase } = await import('../../src/server/database.js');
  const db = openDatabase(':memory:');
  const insert = db.prepare(
    `INSERT INTO tasks (app_id, project_id, channel, settings, state, created_at) VALUES ('a', 'p', 'c', '{}', 'recording', 0)`,
  );
  const a = Number(insert.run().lastInsertRowid);
  const b = Number(insert.run().lastInsertRowid);
  db.prepare('DELETE FROM tasks WHERE task_id = ?').run(b);
  expect(Number(insert.run().lastInsertRowid)).toBe(b + 1);
  expect(b).toBe(a + 1);
  db.close();
});
