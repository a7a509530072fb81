// SIGTERM while new tasks pour in: a start still waiting for its group commit when the shutdown
// begins is refused (503), not written after the recordings were ended; no task is left recording.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, expect, test } from 'vitest';
import { arrangeProject, postStart, sandbox, startReferenceServer, type ReferenceServer } from '../support/reference-server.js';

const ids = { app_id: 'load-app', project_id: 'load-proj', sign_key: 'load-key' };
const channels = 3000;
const servers: ReferenceServer[] = [];
afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    server.remove();
  }
});

test('SIGTERM under a load of new tasks: every start is a 200 kept on disk or a 503, and no task is left recording', async () => {
  const server = await startReferenceServer({ CLOUDREC_RATE_LIMIT_PER_SEC: '100000', CLOUDREC_LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  servers.push(server);
  await arrangeProject(server.baseUrl, ids);
  for (let i = 0; i < channels; i++) await sandbox(server.baseUrl, 'PUT', `/sandbox/apps/${ids.app_id}/channels/room-${i}/users/1`, {});

  const acknowledged: number[] = [];
  const statuses = new Map<string, number>();
  let next = 0;
  let running = true;
  // 64 clients at once, each taking the next free channel until the server is gone.
  const clients = Array.from({ length: 64 }, async () => {
    while (running && next < channels) {
      const channel = `room-${next++}`;
      try {
        const answer = await postStart(server.baseUrl, { ...ids, channel });
        const body = (await answer.json()) as { task_id?: number; code: string };
        statuses.set(String(answer.status), (statuses.get(String(answer.status)) ?? 0) + 1);
        if (answer.status === 200) acknowledged.push(body.task_id!);
        else expect(answer.status, JSON.stringify(body)).toBe(503);
      } catch {
        statuses.set('no answer', (statuses.get('no answer') ?? 0) + 1);
      }
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  const exited = new Promise((resolve) => server.process.child.once('exit', resolve));
  process.kill(server.process.child.pid!, 'SIGTERM');
  await exited;
  running = false;
  await Promise.all(clients);

  // The process is gone and its lock with it: read what it left.
  const db = new DatabaseSync(join(server.dataDir, 'cloudrec.db'), { readOnly: true });
  const stored = new Set(db.prepare('SELECT task_id FROM tasks').all().map((row) => Number(row.task_id)));
  const leftRecording = db.prepare(`SELECT task_id FROM tasks WHERE state = 'recording' OR end_reason IS NULL`).all().map((row) => Number(row.task_id));
  db.close();
  console.log(`answers: ${JSON.stringify(Object.fromEntries(statuses))}; ${stored.size} tasks stored, ${leftRecording.length} left recording`);
  expect(acknowledged.length).toBeGreaterThan(100);
  expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  expect(leftRecording).toEqual([]);
}, 120_000);
