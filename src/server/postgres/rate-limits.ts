// Rate limits for the whole fleet, kept in PostgreSQL: an app's start requests a second and failed
// authentications a minute (per address, per app) are counted once, whichever node a request
// reaches. Each limit is a token bucket (as many as the limit, refilled at the limit's pace) in a
// row; the takes of one turn of a node's event loop are one statement, so a busy node adds one
// round trip a turn, not one a request. The database's clock is the one clock. A key refused by
// any node is NOTIFYed, so every node refuses it before counting (an address over its failure limit
// is not even checked, wherever it tries next). A take that waited for another's row lock read the
// clock before it: a bucket's time never goes back, or the time between would be refilled twice.
import type { Postgres } from './connection.js';

export const blockedChannel = 'cloudrec_rate_blocked';

interface Take {
  key: string;
  limit: number;
  windowMs: number;
  resolve: (wait: number) => void;
  reject: (error: unknown) => void;
}

/** One limit of the fleet: `take` counts a request and resolves with the seconds to wait (0: it may go). */
export interface FleetLimiter {
  take(key: string): Promise<number>;
  /** The seconds `key` must wait now as far as this node knows, without counting (0 when it may go). */
  waitFor(key: string): number;
}

export function createFleetLimits(db: Postgres, now: () => number = Date.now) {
  let pending: Take[] = [];
  /** Until when (this node's ms) each refused key is refused, by its namespaced key. */
  const blockedUntil = new Map<string, number>();

  const block = (key: string, seconds: number) => {
    blockedUntil.set(key, now() + seconds * 1000);
    // Forget what has expired now and then, so the map holds the keys refused in the last minutes only.
    if (blockedUntil.size > 1024) for (const [k, until] of blockedUntil) if (until <= now()) blockedUntil.delete(k);
  };

  async function flush() {
    const batch = pending;
    pending = [];
    // Several takes of one key in a turn are one row of the statement, asking for that many.
    const keys = new Map<string, Take[]>();
    for (const take of batch) {
      const same = keys.get(take.key);
      if (same) same.push(take);
      else keys.set(take.key, [take]);
    }
    const rows = [...keys.values()];
    try {
      const { rows: granted } = await db.query<{ key: string; granted: number; wait_ms: number }>(
        `WITH asked AS (
           SELECT * FROM unnest($1::text[], $2::int[], $3::float8[], $4::float8[]) AS a(key, asked, cap, per_ms)
         ), now AS (SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms),
         taken AS (
           INSERT INTO rate_buckets AS b (key, tokens, at, asked, granted, cap, per_ms)
           SELECT a.key, a.cap - LEAST(a.asked, a.cap), now.ms, a.asked, LEAST(a.asked, a.cap), a.cap, a.per_ms FROM asked a, now
           ON CONFLICT (key) DO UPDATE SET
             granted = LEAST(EXCLUDED.asked, floor(LEAST(EXCLUDED.cap, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * EXCLUDED.per_ms))),
             tokens = LEAST(EXCLUDED.cap, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * EXCLUDED.per_ms)
               - LEAST(EXCLUDED.asked, floor(LEAST(EXCLUDED.cap, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * EXCLUDED.per_ms))),
             at = GREATEST(b.at, EXCLUDED.at), asked = EXCLUDED.asked, cap = EXCLUDED.cap, per_ms = EXCLUDED.per_ms
           RETURNING key, granted, asked, tokens, per_ms
         )
         SELECT key, granted, ceil((1 - tokens) / per_ms) AS wait_ms,
           CASE WHEN granted < asked THEN pg_notify('${blockedChannel}', json_build_array(key, ceil((1 - tokens) / per_ms))::text) END AS told
         FROM taken`,
        [rows.map((t) => t[0]!.key), rows.map((t) => t.length), rows.map((t) => t[0]!.limit), rows.map((t) => t[0]!.limit / t[0]!.windowMs)],
      );
      const byKey = new Map(granted.map((row) => [row.key, row]));
      for (const takes of rows) {
        const row = byKey.get(takes[0]!.key)!;
        const seconds = Math.max(1, Math.ceil(row.wait_ms / 1000));
        takes.forEach((take, i) => take.resolve(i < row.granted ? 0 : seconds));
        if (row.granted < takes.length) block(takes[0]!.key, seconds);
      }
    } catch (error) {
      for (const take of batch) take.reject(error);
    }
  }

  /** Removes the buckets that are full again (their key made no request for a whole window): the table holds the keys active lately, not every one ever seen. */
  const sweep = () =>
    db.query('DELETE FROM rate_buckets WHERE at + (cap - tokens) / per_ms < extract(epoch FROM clock_timestamp()) * 1000').catch(() => {});
  let sweeper: NodeJS.Timeout | undefined;

  return {
    /** Follows the refusals of every node, and sweeps full buckets every minute. */
    close: () => clearInterval(sweeper),
    open: () => {
      sweeper = setInterval(() => void sweep(), 60_000);
      sweeper.unref();
      return db.listen(
        blockedChannel,
        (payload) => {
          const [key, waitMs] = JSON.parse(payload) as [string, number];
          block(key, Math.max(1, Math.ceil(waitMs / 1000)));
        },
        async () => {},
      );
    },
    /** A limit of `limit` requests a `windowMs`, its keys apart from other limits' by `namespace`. */
    limiter(namespace: string, limit: number, windowMs: number): FleetLimiter {
      return {
        take: (key) =>
          new Promise((resolve, reject) => {
            if (pending.length === 0) setImmediate(() => void flush());
            pending.push({ key: `${namespace}:${key}`, limit, windowMs, resolve, reject });
          }),
        waitFor(key) {
          const until = blockedUntil.get(`${namespace}:${key}`);
          return until === undefined || until <= now() ? 0 : Math.max(1, Math.ceil((until - now()) / 1000));
        },
      };
    },
  };
}
