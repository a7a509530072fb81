// One node records for a database at a time, for now: the one holding a session advisory lock on
// a connection of its own. Any other recording node waits as a standby, trying for the lock every
// `retryMs`, and takes over when the holder stops or dies (PostgreSQL frees a session's locks the
// moment its connection closes, a SIGKILL included). A holder that loses its connection stops
// working at once (a standby may hold the lock by then) and tries again like a standby.
// (Handing the work to several workers at once through a job queue is the next step of the fleet.)
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const lockSql = "SELECT pg_try_advisory_lock(hashtext('cloudrec recording node')) AS held";

export interface RecordingLockEvents {
  /** This node holds the lock: it records now. */
  acquired(): Promise<void> | void;
  /** This node lost the lock (its connection broke): it must stop recording until it holds it again. */
  lost(): Promise<void> | void;
  /** Once, when another node holds the lock at this node's first try. */
  standby(): void;
}

/** Tries for the lock until `release` is called; resolves once the first try is answered. */
export async function holdRecordingLock(url: string, events: RecordingLockEvents, retryMs = 2000): Promise<{ release(): Promise<void> }> {
  let released = false;
  let client: pg.Client | undefined;
  let told = false;
  let firstTry: () => void = () => {};
  const first = new Promise<void>((resolve) => (firstTry = resolve));

  const loop = async () => {
    while (!released) {
      const next = new pg.Client({ connectionString: url, application_name: `cloudrec recording lock ${process.pid}`, connectionTimeoutMillis: 2000 });
      next.on('error', () => {});
      const ended = new Promise<void>((resolve) => next.once('end', () => resolve()));
      try {
        await next.connect();
        client = next;
        // Held or not, keep trying on this connection until it is, or until it breaks.
        while (!released) {
          const { rows } = await next.query<{ held: boolean }>(lockSql);
          firstTry();
          if (rows[0]!.held) break;
          if (!told) {
            told = true;
            events.standby();
          }
          await Promise.race([sleep(retryMs), ended]);
        }
        if (released) break;
        await events.acquired();
        await ended;
        if (!released) await events.lost();
      } catch {
        firstTry();
        await next.end().catch(() => {});
        if (!released) await sleep(retryMs);
      }
    }
  };
  void loop();
  await first;
  return {
    async release() {
      released = true;
      await client?.end().catch(() => {});
    },
  };
}
