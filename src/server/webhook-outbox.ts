// Webhook events in SQLite, written in the transaction of the state change that made them and
// kept once delivered (with every attempt) for the sandbox to list. A pending event is claimed
// for a while (a lease) by the sender that tries it; this process owns the file, so leases left
// by a crash are let go of at open.
import { statement, transaction, type Db, type Named } from './database.js';
import type { NewEvent, OutboxEvent, Settlement, WebhookAttempt } from './webhook-events.js';

/** Where events wait to be sent: the embedded database's or PostgreSQL's. */
export interface Outbox {
  /**
   * Claims up to `limit` events due at `at`, each the first of its task not yet settled and not
   * claimed by a sender now, for `leaseMs`.
   */
  claim(limit: number, at: number, leaseMs: number): Promise<OutboxEvent[]> | OutboxEvent[];
  /** Records an attempt (none when there was nothing to try) and what comes next; lets go of the claim. */
  settle(seq: number, attempt: WebhookAttempt | undefined, settlement: Settlement): Promise<void> | void;
  /** Lets go of claims without an attempt (a shutdown aborted them). */
  release(seqs: number[]): Promise<void> | void;
  /** A task's events, oldest first. */
  list(taskId: number): Promise<OutboxEvent[]> | OutboxEvent[];
  /** Calls `listener` when events were written (by any node). */
  watch(listener: () => void): Promise<void> | void;
}

interface EventRow extends Omit<OutboxEvent, 'attempts'> {
  attempts: string;
}

const fromRow = (row: EventRow): OutboxEvent => ({ ...row, attempts: JSON.parse(row.attempts) as WebhookAttempt[] });

export function createSqliteOutbox(db: Db) {
  const insert = statement<[Named]>(
    db,
    `INSERT INTO webhook_events (event_id, task_id, app_id, project_id, type, body, created_at, state, next_at)
     VALUES (@event_id, @task_id, @app_id, @project_id, @type, @body, @created_at, 'pending', @created_at)`,
  );
  const due = statement<[Named], EventRow>(
    db,
    `SELECT * FROM webhook_events e
      WHERE e.state = 'pending' AND e.next_at <= @at AND e.lease_until <= @at
        AND NOT EXISTS (SELECT 1 FROM webhook_events p WHERE p.task_id = e.task_id AND p.seq < e.seq AND p.state = 'pending')
      ORDER BY e.next_at LIMIT @limit`,
  );
  const lease = statement<[number, number]>(db, 'UPDATE webhook_events SET lease_until = ? WHERE seq = ?');
  const settle = statement<[Named]>(
    db,
    `UPDATE webhook_events
        SET state = @state, next_at = @next_at, given_up_reason = @reason, lease_until = 0,
            attempts = CASE WHEN @attempt IS NULL THEN attempts ELSE json_insert(attempts, '$[#]', json(@attempt)) END
      WHERE seq = @seq`,
  );
  const ofTask = statement<[number], EventRow>(db, 'SELECT * FROM webhook_events WHERE task_id = ? ORDER BY seq');
  // The claims of a process that ended without letting go.
  statement(db, 'UPDATE webhook_events SET lease_until = 0 WHERE lease_until > 0').run();
  const listeners: (() => void)[] = [];

  return {
    /** Writes an event; call it inside the transaction of the state change it tells of. */
    add(event: NewEvent) {
      insert.run({ ...event });
      // Told once the transaction is over (the sender's claim is a statement of its own).
      if (listeners.length) setImmediate(() => listeners.forEach((listener) => listener()));
    },
    claim: (limit, at, leaseMs) =>
      // One commit for the batch's leases.
      transaction(db, () => {
        const rows = due.all({ at, limit });
        for (const row of rows) lease.run(at + leaseMs, row.seq);
        return rows.map(fromRow);
      }),
    settle(seq, attempt, settlement) {
      settle.run({
        seq,
        state: settlement.state,
        next_at: settlement.state === 'pending' ? settlement.next_at : null,
        reason: settlement.state === 'given_up' ? settlement.reason : null,
        attempt: attempt ? JSON.stringify(attempt) : null,
      });
    },
    release: (seqs) => transaction(db, () => seqs.forEach((seq) => lease.run(0, seq))),
    list: (taskId) => ofTask.all(taskId).map(fromRow),
    watch: (listener) => void listeners.push(listener),
  } satisfies Outbox & { add(event: NewEvent): void };
}
