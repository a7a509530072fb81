// Webhook events in PostgreSQL, for the whole fleet: written in the transaction of the state change
// that made them (on whichever node made it), sent by the recording nodes. A sender claims a
// project's due events with FOR UPDATE SKIP LOCKED and a lease, so two nodes never try one event at
// once and a node that dies mid-attempt leaves its claims to another once the lease is over. Each
// node knows which projects have pending events from the NOTIFY of each insert (and a read of them
// all whenever it connects).
import type { NewEvent, OutboxEvent, WebhookAttempt } from '../webhook-events.js';
import { projectKey, splitKey, type Outbox } from '../webhook-outbox.js';
import type { Postgres, Queryable } from './connection.js';
import { notifyChannels } from './migrations.js';

export function createPgOutbox(db: Postgres) {
  const listeners: (() => void)[] = [];
  const projects = new Set<string>();
  return {
    /** Writes events on `client`, inside the transaction of the state changes they tell of. */
    async add(client: Queryable, events: NewEvent[]) {
      if (!events.length) return;
      await client.query(
        `INSERT INTO webhook_events (event_id, task_id, app_id, project_id, type, body, created_at, state, next_at)
         SELECT e.*, 'pending', e.created_at
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS e(event_id, task_id, app_id, project_id, type, body, created_at)`,
        [
          events.map((e) => e.event_id),
          events.map((e) => e.task_id),
          events.map((e) => e.app_id),
          events.map((e) => e.project_id),
          events.map((e) => e.type),
          events.map((e) => e.body),
          events.map((e) => e.created_at),
        ],
      );
    },
    pendingProjects: () => [...projects],
    async claim(project, limit, at, leaseMs) {
      const [appId, projectId] = splitKey(project);
      const { rows } = await db.query<OutboxEvent>(
        `WITH due AS (
           SELECT e.seq FROM webhook_events e
            WHERE e.state = 'pending' AND e.app_id = $4 AND e.project_id = $5 AND e.next_at <= $1 AND e.lease_until <= $1
              AND NOT EXISTS (SELECT 1 FROM webhook_events p WHERE p.task_id = e.task_id AND p.seq < e.seq AND p.state = 'pending')
            ORDER BY e.next_at LIMIT $2
            FOR UPDATE SKIP LOCKED)
         UPDATE webhook_events w SET lease_until = $3 FROM due WHERE w.seq = due.seq
         RETURNING w.*`,
        [at, limit, at + leaseMs, appId, projectId],
      );
      if (!rows.length) {
        const { rowCount } = await db.query(`SELECT 1 FROM webhook_events WHERE state = 'pending' AND app_id = $1 AND project_id = $2 LIMIT 1`, [appId, projectId]);
        if (!rowCount) projects.delete(project);
      }
      return rows.sort((a, b) => a.seq - b.seq);
    },
    async settle(seq, attempt, settlement) {
      await db.query(
        `UPDATE webhook_events
            SET state = $2, next_at = $3, given_up_reason = $4, lease_until = 0,
                attempts = CASE WHEN $5::jsonb IS NULL THEN attempts ELSE attempts || jsonb_build_array($5::jsonb) END
          WHERE seq = $1`,
        [
          seq,
          settlement.state,
          settlement.state === 'pending' ? settlement.next_at : null,
          settlement.state === 'given_up' ? settlement.reason : null,
          attempt ? JSON.stringify(attempt) : null,
        ],
      );
    },
    async release(seqs) {
      await db.query('UPDATE webhook_events SET lease_until = 0 WHERE seq = ANY($1::bigint[])', [seqs]);
    },
    async list(taskId) {
      return (await db.query<OutboxEvent & { attempts: WebhookAttempt[] }>('SELECT * FROM webhook_events WHERE task_id = $1 ORDER BY seq', [taskId])).rows;
    },
    /** Hears of events written by any node (a trigger NOTIFYs each project at each insert); the first call starts listening. */
    async watch(listener) {
      listeners.push(listener);
      if (listeners.length > 1) return;
      const wake = () => listeners.forEach((each) => each());
      await db.listen(
        notifyChannels.webhooks,
        (project) => {
          projects.add(project);
          wake();
        },
        // Once connected (again): every project with pending events, whatever was written meanwhile.
        async () => {
          const { rows } = await db.query<{ app_id: string; project_id: string }>(`SELECT DISTINCT app_id, project_id FROM webhook_events WHERE state = 'pending'`);
          for (const row of rows) projects.add(projectKey(row.app_id, row.project_id));
          wake();
        },
      );
    },
  } satisfies Outbox & { add(client: Queryable, events: NewEvent[]): Promise<void> };
}

export type PgOutbox = ReturnType<typeof createPgOutbox>;
