// The connection to PostgreSQL: a pool for queries and transactions, and one client of its own that
// LISTENs for the changes other nodes make (reconnecting by itself). Errors of idle connections
// are reported, never thrown: PostgreSQL going away is an answer (503), not the end of the process.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isDatabaseUnavailable } from './unavailable.js';

/** bigint (task ids, times in ms) as a JS number: both stay below 2^53, as the spec's task_id does. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A pool or one connection of it: what a query is sent on. */
export interface Queryable {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<Row>>;
}

export interface Postgres extends Queryable {
  pool: pg.Pool;
  /** Runs `work` in one transaction on one connection; rolled back when it throws. */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` with each payload NOTIFYed on `channel`, from any node. `onConnected` runs each
   * time the listening connection is (re)established, after LISTEN: what was cached may have missed
   * changes while it was down, so it is read again there; payloads that arrive meanwhile are held
   * and delivered after it.
   */
  listen(channel: string, onMessage: (payload: string) => void, onConnected: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Shown in pg_stat_activity: which node and role holds a connection. */
  applicationName?: string;
  /** Milliseconds to wait for a connection before a query fails (default 2000): a start must not hang. */
  connectTimeoutMs?: number;
  /** Told of errors on idle connections and of lost LISTEN connections; they are survived. */
  onError?: (error: Error, where: string) => void;
}

export function openPostgres(url: string, options: PostgresOptions = {}): Postgres {
  const onError = options.onError ?? (() => {});
  const config = {
    connectionString: url,
    application_name: options.applicationName ?? 'cloudrec',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    // A server that stopped answering (not one that went away) must not hold a request past its timeout.
    query_timeout: 10_000,
    types,
  };
  const pool = new pg.Pool({ ...config, max: options.max ?? 10 });
  pool.on('error', (error) => onError(error, 'an idle connection'));
  let closed = false;
  const listeners: pg.Client[] = [];

  return {
    pool,
    query: (sql, params) => pool.query(sql, params),
    async transaction(work) {
      const client = await pool.connect();
      let broken = false;
      // A connection ended by the server while checked out (a restart) emits an error that no one
      // else listens to here; the query under way fails with it anyway.
      const ended = (error: Error) => {
        broken = true;
        onError(error, 'a connection in a transaction');
      };
      client.on('error', ended);
      try {
        await client.query('BEGIN');
        const result = await work(client as Queryable);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken ||= isDatabaseUnavailable(error);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        client.off('error', ended);
        // A connection whose link broke is not given back to the pool for the next query.
        client.release(broken);
      }
    },
    async listen(channel, onMessage, onConnected) {
      // Backoff between attempts, up to 5 s: a restarted server is picked up within that.
      let delay = 100;
      const connect = async (): Promise<void> => {
        while (!closed) {
          const client = new pg.Client(config);
          client.on('error', (error) => onError(error, `the LISTEN connection for ${channel}`));
          // Only a connection that was fully set up reconnects when it ends; a failed attempt is retried below.
          let live = false;
          client.once('end', () => {
            if (listeners.includes(client)) listeners.splice(listeners.indexOf(client), 1);
            if (live && !closed) void connect();
          });
          try {
            await client.connect();
            // What arrives while the cache is read again is delivered after it, so no change is
            // applied under an older read of the same row.
            let held: string[] | undefined = [];
            client.on('notification', (message) => {
              if (message.channel !== channel) return;
              if (held) held.push(message.payload ?? '');
              else onMessage(message.payload ?? '');
            });
            await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
            listeners.push(client);
            try {
              await onConnected();
            } finally {
              const arrived = held;
              held = undefined;
              for (const payload of arrived) onMessage(payload);
            }
            live = true;
            delay = 100;
            // It ended while the cache was read: connect again (its end found it not live yet).
            if (listeners.includes(client)) return;
          } catch (error) {
            onError(error as Error, `connecting the LISTEN connection for ${channel}`);
            await client.end().catch(() => {});
            await sleep(delay);
            delay = Math.min(delay * 2, 5000);
          }
        }
      };
      await connect();
    },
    async close() {
      closed = true;
      await Promise.all(listeners.map((client) => client.end().catch(() => {})));
      await pool.end();
    },
  };
}
