// The PostgreSQL store against a real PostgreSQL server (a throwaway cluster started here): the
// schema applied once by nodes starting together, the API's promises kept by the database across
// nodes (ids from a sequence, one recording task per channel, racing starts make one task), and
// what each node caches kept true by the others' NOTIFYs.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/postgres.js';
import { openPostgres, type Postgres } from '../../src/server/postgres/connection.js';
import { isDatabaseUnavailable } from '../../src/server/postgres/unavailable.js';
import { migrate, schemaVersion } from '../../src/server/postgres/migrations.js';
import { createPgProjectStore } from '../../src/server/postgres/project-store.js';
import { createFleetLimits } from '../../src/server/postgres/rate-limits.js';
import { createPgTaskStore } from '../../src/server/postgres/task-store.js';
import { createSecretBox } from '../../src/server/secret-box.js';
import { openPgStores } from '../../src/server/postgres/open-stores.js';
import { createWebhookDispatcher } from '../../src/server/webhook-dispatcher.js';
import { startHttpServer } from '../support/http-server.js';
import { recordingSettings, sameSettings } from '../../src/server/start-recording.js';

let server: ThrowawayPostgres;
const opened: Postgres[] = [];
/** A node's connection to the database. */
const node = (name: string) => {
  const db = openPostgres(server.url, { applicationName: name });
  opened.push(db);
  return db;
};

beforeAll(async () => {
  server = await startThrowawayPostgres();
}, 60_000);
afterAll(async () => {
  await Promise.all(opened.map((db) => db.close().catch(() => {})));
  await server?.remove();
});

/** Polls `condition` every 5 ms until it holds; resolves with the milliseconds it took (fails after `limitMs`). */
async function within(limitMs: number, condition: () => boolean): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await sleep(5);
  }
  return performance.now() - started;
}

const settings = recordingSettings({ app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k' });
const other = recordingSettings({ app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k', is_mixing_enabled: 1 });

describe('the schema', () => {
  test('five nodes starting at once apply each version once', async () => {
    const nodes = Array.from({ length: 5 }, (_, i) => node(`migrate-${i}`));
    const applied = await Promise.all(nodes.map((db) => migrate(db)));
    const versions = Array.from({ length: schemaVersion }, (_, i) => i + 1);
    expect(applied.filter((each) => each.length > 0)).toEqual([versions]);
    const { rows } = await nodes[0]!.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(versions.map((version) => ({ version })));
  });

  test('a database of a newer schema is refused, naming both versions', async () => {
    const db = node('newer');
    await db.query('INSERT INTO schema_migrations (version) VALUES (99)');
    await expect(migrate(db)).rejects.toThrow(`The database's schema is version 99, newer than this cloudrec's ${schemaVersion}`);
    await db.query('DELETE FROM schema_migrations WHERE version = 99');
  });
});

describe('tasks across nodes', () => {
  const a = () => createPgTaskStore(node('node-a'));
  const b = () => createPgTaskStore(node('node-b'));

  test('task ids come from a sequence: increasing, and never reused after a rollback', async () => {
    const store = a();
    const [first] = await store.createBatch([{ app_id: 'ids', project_id: 'p', channel: 'one', settings }], sameSettings);
    const db = node('rollback');
    await db.transaction(async (client) => {
      await client.query(`INSERT INTO tasks (app_id, project_id, channel, settings, state, created_at) VALUES ('ids', 'p', 'lost', '{}', 'recording', 0)`);
      throw new Error('rolled back');
    }).catch(() => {});
    const [second] = await store.createBatch([{ app_id: 'ids', project_id: 'p', channel: 'two', settings }], sameSettings);
    expect(first!.kind).toBe('created');
    expect(second!.task.task_id).toBeGreaterThan(first!.task.task_id + 1);
  });

  test('fifty identical starts racing over two nodes make one task; each gets its task_id', async () => {
    const [nodeA, nodeB] = [a(), b()];
    const start = { app_id: 'race', project_id: 'p', channel: 'room', settings };
    const outcomes = (await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? nodeA : nodeB).createBatch([start], sameSettings)))).flat();
    expect(outcomes.filter((o) => o.kind === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'repeat')).toHaveLength(49);
    expect(new Set(outcomes.map((o) => o.task.task_id)).size).toBe(1);
    const { rows } = await node('count').query(`SELECT count(*)::int AS n FROM tasks WHERE app_id = 'race'`);
    expect(rows[0]).toEqual({ n: 1 });
  });

  test('other settings for the channel are a conflict on any node; one batch with the channel twice makes one task', async () => {
    const [nodeA, nodeB] = [a(), b()];
    const [created] = await nodeA.createBatch([{ app_id: 'conflict', project_id: 'p', channel: 'room', settings }], sameSettings);
    const [conflict] = await nodeB.createBatch([{ app_id: 'conflict', project_id: 'p', channel: 'room', settings: other }], sameSettings);
    expect(conflict).toMatchObject({ kind: 'conflict', task: { task_id: created!.task.task_id } });
    const twice = await nodeA.createBatch(
      [
        { app_id: 'conflict', project_id: 'p', channel: 'twice', settings },
        { app_id: 'conflict', project_id: 'p', channel: 'twice', settings },
        { app_id: 'conflict', project_id: 'p', channel: 'twice', settings: other },
      ],
      sameSettings,
    );
    expect(twice.map((o) => o.kind)).toEqual(['created', 'repeat', 'conflict']);
  });

  test("a node learns of another node's new and ended tasks within a second", async () => {
    const [nodeA, nodeB] = [a(), b()];
    await nodeB.open();
    const [created] = await nodeA.createBatch([{ app_id: 'notify', project_id: 'p', channel: 'room', settings }], sameSettings);
    const taskId = created!.task.task_id;
    const seen = await within(1000, () => nodeB.activeTask('notify', 'room')?.task_id === taskId);
    await nodeA.update(taskId, { state: 'uploading', ended_at: Date.now(), end_reason: 'stopped' });
    const gone = await within(1000, () => nodeB.activeTask('notify', 'room') === undefined);
    expect(seen + gone).toBeLessThan(1000);
    expect(await nodeB.get(taskId)).toMatchObject({ task_id: taskId, state: 'uploading', end_reason: 'stopped' });
  });
});

describe('projects across nodes', () => {
  const box = createSecretBox(Buffer.alloc(32, 3));
  const storage = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', bucket: 'b', access_key_id: 'id', secret_access_key: 'secret', prefix: '', force_path_style: true };

  test('a sign_key changed through one node is refused by another within a second; the storage secret is sealed at rest', async () => {
    const [dbA, dbB] = [node('projects-a'), node('projects-b')];
    const [nodeA, nodeB] = [createPgProjectStore(dbA, box), createPgProjectStore(dbB, box)];
    await nodeA.put('app', 'proj', { sign_key: 'old', recording_enabled: true, storage });
    await nodeB.open();
    expect(nodeB.authenticate('app', 'proj', 'old')?.storage?.secret_access_key).toBe('secret');
    await nodeA.patch('app', 'proj', { sign_key: 'new' });
    const took = await within(1000, () => nodeB.authenticate('app', 'proj', 'old') === undefined);
    expect(nodeB.authenticate('app', 'proj', 'new')).toBeDefined();
    expect(took).toBeLessThan(1000);
    const { rows } = await dbA.query<{ storage: string }>(`SELECT storage FROM projects WHERE app_id = 'app'`);
    expect(rows[0]!.storage).not.toContain('"secret"');
  });

  test("a project's webhook set through one node is known to another within a second, its secrets sealed at rest", async () => {
    const [dbA, dbB] = [node('webhook-a'), node('webhook-b')];
    const [nodeA, nodeB] = [createPgProjectStore(dbA, box), createPgProjectStore(dbB, box)];
    await nodeA.put('app', 'hooked', { sign_key: 'k', recording_enabled: true, storage });
    await nodeB.open();
    const webhook = { url: 'https://hooks.example.com/a', secret: 'whsec_current', previous_secret: 'whsec_previous', previous_until: Date.now() + 1000 };
    await nodeA.patch('app', 'hooked', { webhook });
    await within(1000, () => nodeB.get('app', 'hooked')?.webhook !== null);
    expect(nodeB.get('app', 'hooked')?.webhook).toEqual(webhook);
    const { rows } = await dbA.query<{ webhook: string }>(`SELECT webhook FROM projects WHERE project_id = 'hooked'`);
    expect(rows[0]!.webhook).not.toContain('whsec_');
  });

  test('a project created while a node was disconnected is known to it once it is back', async () => {
    const nodeA = createPgProjectStore(node('reconnect-a'), box);
    const nodeB = createPgProjectStore(node('reconnect-b'), box);
    await nodeB.open();
    await server.stop();
    const down = await nodeA.put('app', 'later', { sign_key: 'k', recording_enabled: true, storage: null }).catch((error: unknown) => error);
    expect(isDatabaseUnavailable(down)).toBe(true);
    await server.start();
    // Written once the server is back: nodeB hears of it on its new connection (or reads it when reconnecting).
    await expect.poll(() => nodeA.put('app', 'later', { sign_key: 'k', recording_enabled: true, storage: null }).then(() => true, () => false), { timeout: 10_000 }).toBe(true);
    await within(10_000, () => nodeB.authenticate('app', 'later', 'k') !== undefined);
  }, 30_000);
});

describe('fleet rate limits', () => {
  test("a take that waited for another node's lock never moves its bucket's time back (no refill counted twice)", async () => {
    const db = node('limits-a');
    await migrate(db);
    const limits = createFleetLimits(db);
    const limiter = limits.limiter('race', 10, 1000);
    expect(await limiter.take('app')).toBe(0); // the bucket exists, 9 tokens left
    // Another node holds the row; its take read the clock after this node's, and commits first.
    const holder = await node('limits-b').pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM rate_buckets WHERE key = 'race:app' FOR UPDATE`);
      const waiting = limiter.take('app');
      await sleep(200); // this node's take has read its clock and waits for the row
      const later = Number((await holder.query(`SELECT extract(epoch FROM clock_timestamp()) * 1000 + 5000 AS ms`)).rows[0].ms);
      await holder.query(`UPDATE rate_buckets SET at = $1, tokens = 0 WHERE key = 'race:app'`, [later]);
      await holder.query('COMMIT');
      expect(await waiting).toBeGreaterThan(0); // no token: the other node took them all
      const { rows } = await db.query<{ at: number }>(`SELECT at FROM rate_buckets WHERE key = 'race:app'`);
      expect(rows[0]!.at).toBe(later);
    } finally {
      holder.release();
      limits.close();
    }
  });
});

describe('webhook events across nodes', () => {
  const box = createSecretBox(Buffer.alloc(32, 3));
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };

  test('events written by an API node are sent by the recording nodes: each once, in order per task, woken by NOTIFY', async () => {
    const seen: { id: string; type: string; task: number }[] = [];
    const receiver = await startHttpServer((req, res) => {
      const event = JSON.parse(req.body) as { id: string; type: string; task_id: number };
      seen.push({ id: event.id, type: event.type, task: event.task_id });
      res.writeHead(204).end();
    });
    const [api, workerA, workerB] = await Promise.all(['hooks-api', 'hooks-a', 'hooks-b'].map((name) => openPgStores(server.url, box, { applicationName: name })));
    opened.push(api!.db, workerA!.db, workerB!.db);
    await api!.projects.put('app', 'hooks', { sign_key: 'k', recording_enabled: true, storage: null });
    await api!.projects.patch('app', 'hooks', { webhook: { url: receiver.url, secret: 'whsec_fleet', previous_secret: null, previous_until: null } });
    await within(1000, () => workerA!.projects.get('app', 'hooks')?.webhook != null && workerB!.projects.get('app', 'hooks')?.webhook != null);
    // Polls an hour apart: only the NOTIFY of a new event can wake them in time.
    const senders = [workerA!, workerB!].map((worker) =>
      createWebhookDispatcher({ outbox: worker.outbox, projects: worker.projects, log: quiet, allowPrivate: true, pollMs: 3_600_000 }),
    );
    await Promise.all(senders.map((sender) => sender.start()));
    const batch = Array.from({ length: 30 }, (_, i) => ({ app_id: 'app', project_id: 'hooks', channel: `hook-${i}`, settings }));
    const outcomes = await api!.tasks.createBatch(batch, sameSettings);
    const ids = outcomes.map((o) => o.task.task_id);
    for (const id of ids) await workerA!.tasks.update(id, { state: 'failed', failure_reason: 'x' });
    await within(5000, () => seen.length >= 60);
    await sleep(300);
    await Promise.all(senders.map((sender) => sender.stop()));
    await receiver.close();
    expect(seen).toHaveLength(60);
    expect(new Set(seen.map((s) => s.id)).size).toBe(60);
    for (const id of ids) expect(seen.filter((s) => s.task === id).map((s) => s.type)).toEqual(['recording.started', 'recording.failed']);
    const [listed] = await api!.outbox.list(ids[0]!);
    expect(listed).toMatchObject({ state: 'delivered', attempts: [{ status: 204, error: null }] });
  });

  test("a claim left by a sender that died is taken by another once its lease is over, never before", async () => {
    const [api, worker] = await Promise.all(['lease-api', 'lease-worker'].map((name) => openPgStores(server.url, box, { applicationName: name })));
    opened.push(api!.db, worker!.db);
    await api!.projects.put('app', 'leased', { sign_key: 'k', recording_enabled: true, storage: null });
    await api!.projects.patch('app', 'leased', { webhook: { url: 'http://127.0.0.1:9/', secret: 'whsec_l', previous_secret: null, previous_until: null } });
    await within(1000, () => api!.projects.get('app', 'leased')?.webhook != null);
    const { task } = (await api!.tasks.createBatch([{ app_id: 'app', project_id: 'leased', channel: 'leased', settings }], sameSettings))[0]!;
    const at = Date.now() + 1000;
    const mine = (events: { task_id: number }[]) => events.filter((e) => e.task_id === task.task_id);
    expect(mine(await api!.outbox.claim('app\nleased', 100, at, 60_000))).toHaveLength(1);
    // Claimed: the other node skips it, until the lease is over.
    expect(mine(await worker!.outbox.claim('app\nleased', 100, at + 59_000, 60_000))).toHaveLength(0);
    expect(mine(await worker!.outbox.claim('app\nleased', 100, at + 60_000, 60_000))).toHaveLength(1);
  });
});
