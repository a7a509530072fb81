// Webhook events in SQLite, written in the transaction of the state change that made them and
// kept once delivered (with every attempt) for the sandbox to list. Senders look project by
// project (the projects with pending events are kept in memory), each through an index of its own
// pending events: a receiver with a long backlog costs nothing to the others' claims. One process
// owns the file, so the events a sender is trying are claimed in memory, and the outcomes of
// attempts are written together, one commit for all that settled in a turn of the event loop (an
// fsync per attempt would take turns with the starts' own commits).
import { statement, transaction, type Db, type Named } from './database.js';
import type { NewEvent, OutboxEvent, Settlement, WebhookAttempt } from './webhook-events.js';

/** Where events wait to be sent: the embedded database's or PostgreSQL's. */
export interface Outbox {
  /** The projects that may have pending events (`app_id` and `project_id` joined by a line feed): where a sender looks. */
  pendingProjects(): string[];
  /**
   * Claims up to `limit` events of `project` due at `at`, each the first of its task not yet
   * settled and not claimed by a sender now, for `leaseMs` (a fleet's claims outlive a node that
   * died by that much). A project found with no pending event is no longer looked at.
   */
  claim(project: string, limit: number, at: number, leaseMs: number): Promise<OutboxEvent[]> | OutboxEvent[];
  /** Records an attempt (none when there was nothing to try) and what comes next; lets go of the claim. */
  settle(seq: number, attempt: WebhookAttempt | undefined, settlement: Settlement): Promise<void> | void;
  /** Lets go of claims without an attempt (a shutdown aborted them). */
  release(seqs: number[]): Promise<void> | void;
  /** A task's events, oldest first. */
  list(taskId: number): Promise<OutboxEvent[]> | OutboxEvent[];
  /** Calls `listener` when events were written (by any node). */
  watch(listener: () => void): Promise<void> | void;
}

/** A project's key among the pending ones. */
export const projectKey = (appId: string, projectId: string) => `${appId}\n${projectId}`;
/** A project's `app_id` and `project_id` from its key. */
export const splitKey = (key: string) => key.split('\n') as [string, string];

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
      WHERE e.state = 'pending' AND e.app_id = @app_id AND e.project_id = @project_id AND e.next_at <= @at
        AND e.seq NOT IN (SELECT value FROM json_each(@claimed))
        AND NOT EXISTS (SELECT 1 FROM webhook_events p WHERE p.task_id = e.task_id AND p.seq < e.seq AND p.state = 'pending')
      ORDER BY e.next_at LIMIT @limit`,
  );
  const anyPending = statement<[string, string]>(db, `SELECT 1 FROM webhook_events WHERE state = 'pending' AND app_id = ? AND project_id = ? LIMIT 1`);
  const settleRow = statement<[Named]>(
    db,
    `UPDATE webhook_events
        SET state = @state, next_at = @next_at, given_up_reason = @reason,
            attempts = CASE WHEN @attempt IS NULL THEN attempts ELSE json_insert(attempts, '$[#]', json(@attempt)) END
      WHERE seq = @seq`,
  );
  const ofTask = statement<[number], EventRow>(db, 'SELECT * FROM webhook_events WHERE task_id = ? ORDER BY seq');
  const projects = new Set(
    statement<[], { app_id: string; project_id: string }>(db, `SELECT DISTINCT app_id, project_id FROM webhook_events WHERE state = 'pending'`)
      .all()
      .map((row) => projectKey(row.app_id, row.project_id)),
  );
  /** Events a sender is trying now. */
  const claimed = new Set<number>();
  /** Outcomes waiting for their commit, and who waits for it. */
  let settled: Named[] = [];
  let waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  const listeners: (() => void)[] = [];
  let telling = false;

  /** Writes the outcomes so far in one transaction; their events stay claimed until then, so none is tried twice. */
  function flush() {
    if (!settled.length) return;
    const [rows, told] = [settled, waiting];
    [settled, waiting] = [[], []];
    try {
      transaction(db, () => rows.forEach((row) => settleRow.run(row)));
      told.forEach((w) => w.resolve());
    } catch (error) {
      // Not written (a full disk): the events are still pending, and are tried again.
      told.forEach((w) => w.reject(error));
    } finally {
      for (const row of rows) claimed.delete(row.seq as number);
    }
  }

  return {
    /** Writes an event; call it inside the transaction of the state change it tells of. */
    add(event: NewEvent) {
      insert.run({ ...event });
      projects.add(projectKey(event.app_id, event.project_id));
      // Told once the transaction is over (the sender's claim is a statement of its own), once for
      // all the events of a turn of the event loop (a batch of starts makes many).
      if (listeners.length && !telling) {
        telling = true;
        setImmediate(() => {
          telling = false;
          listeners.forEach((listener) => listener());
        });
      }
    },
    pendingProjects: (): string[] => [...projects],
    claim(project: string, limit: number, at: number): OutboxEvent[] {
      const [app_id, project_id] = splitKey(project);
      const rows = due.all({ app_id, project_id, at, limit, claimed: JSON.stringify([...claimed]) });
      if (!rows.length && !anyPending.get(app_id, project_id)) projects.delete(project);
      for (const row of rows) claimed.add(row.seq);
      return rows.map(fromRow);
    },
    settle(seq: number, attempt: WebhookAttempt | undefined, settlement: Settlement): Promise<void> {
      if (!settled.length) setImmediate(flush);
      settled.push({
        seq,
        state: settlement.state,
        next_at: settlement.state === 'pending' ? settlement.next_at : null,
        reason: settlement.state === 'given_up' ? settlement.reason : null,
        attempt: attempt ? JSON.stringify(attempt) : null,
      });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    release(seqs: number[]): void {
      for (const seq of seqs) claimed.delete(seq);
    },
    list(taskId: number): OutboxEvent[] {
      flush();
      return ofTask.all(taskId).map(fromRow);
    },
    watch: (listener: () => void): void => void listeners.push(listener),
  } satisfies Outbox & { add(event: NewEvent): void };
}
