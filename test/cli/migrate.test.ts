// `cloudrec migrate` as an operator runs it: an embedded deployment (the reference server on its
// data folder) copied into a throwaway PostgreSQL; a fleet node on it then knows the projects (their
// keys and sealed secrets), the tasks and the channels, and its new task ids go on after the last;
// a second copy into the same database is refused.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/postgres.js';
import { projectRoot } from '../support/prism.js';
import { arrangeProject, sandbox, startReferenceServer, startTask, type ReferenceServer } from '../support/reference-server.js';

const started: ReferenceServer[] = [];
let database: ThrowawayPostgres | undefined;
afterAll(async () => {
  for (const server of started) {
    await server.stop();
    server.remove();
  }
  await database?.remove();
});

const cloudrec = (args: string[], env: Record<string, string>) =>
  promisify(execFile)(process.execPath, [join(projectRoot, 'bin/cloudrec.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

test('migrate copies projects, tasks and channels into PostgreSQL; a fleet node carries on from them; a second copy is refused', async () => {
  const embedded = await startReferenceServer({ CLOUDREC_LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  started.push(embedded);
  const ids = { app_id: 'moving-app', project_id: 'p', sign_key: 'moving-key', channel: 'room' };
  await arrangeProject(embedded.baseUrl, { ...ids, uids: [1, 2] });
  await sandbox(embedded.baseUrl, 'PUT', '/sandbox/apps/moving-app/channels/later/users/3', {});
  const first = await startTask(embedded.baseUrl, ids);
  const hook = (await sandbox(embedded.baseUrl, 'PUT', '/sandbox/projects/moving-app/p/webhook', { url: 'https://hooks.example.com/moving' })) as { secret: string };
  // A task started with the webhook set: its event waits (the name does not resolve here) and moves with the rest.
  await sandbox(embedded.baseUrl, 'PUT', '/sandbox/apps/moving-app/channels/hooked/users/4', {});
  const hooked = await startTask(embedded.baseUrl, { ...ids, channel: 'hooked' });
  await embedded.stop();

  database = await startThrowawayPostgres();
  const fleetKey = randomBytes(32).toString('base64');
  const copy = await cloudrec(['migrate', '--from', embedded.dataDir, '--database-url', database.url], { CLOUDREC_SECRET_KEY: fleetKey });
  expect(copy.stderr).toBe('');
  expect(copy.code).toBe(0);
  expect(copy.stdout).toMatch(/^Copied from .+: 1 project \(1 storage secret sealed again with the fleet's key\), 2 tasks \(\d recording; new ids go on after \d+\), 4 channel memberships, 1 webhook event \(1 still to deliver\)\.$/m);
  expect(copy.stdout).not.toContain(fleetKey);

  const node = await startReferenceServer({ CLOUDREC_DATABASE_URL: database.url, CLOUDREC_SECRET_KEY: fleetKey, CLOUDREC_ROLE: 'api', CLOUDREC_LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  started.push(node);
  // The old key still opens the project, the copied secret opens with the fleet's key, ids go on.
  const next = await startTask(node.baseUrl, { ...ids, channel: 'later' });
  expect(next).toBeGreaterThan(first);
  const project = (await sandbox(node.baseUrl, 'GET', '/sandbox/projects/moving-app/p')) as { storage: { bucket: string }; webhook: { url: string } };
  expect(project.storage.bucket).toBe('recordings');
  // The webhook came along, its secret sealed again with the fleet's key (stored, never shown).
  expect(project.webhook.url).toBe('https://hooks.example.com/moving');
  const pg = (await import('pg')).default;
  const client = new pg.Client(database.url);
  await client.connect();
  const stored = (await client.query<{ webhook: string }>(`SELECT webhook FROM projects`)).rows[0]!.webhook;
  await client.end();
  expect(stored).not.toContain(hook.secret);
  const tasks = (await sandbox(node.baseUrl, 'GET', '/sandbox/tasks')) as { tasks: { task_id: number }[] };
  expect(tasks.tasks.map((t) => t.task_id).sort()).toEqual([first, hooked, next].sort());
  const { deliveries } = (await sandbox(node.baseUrl, 'GET', `/sandbox/tasks/${hooked}/deliveries`)) as { deliveries: { type: string; state: string }[] };
  expect(deliveries).toMatchObject([{ type: 'recording.started', state: 'pending' }]);

  const again = await cloudrec(['migrate', '--from', embedded.dataDir, '--database-url', database.url], { CLOUDREC_SECRET_KEY: fleetKey });
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('The database already holds 1 project and 3 tasks: migrate copies into an empty one only');
}, 120_000);
