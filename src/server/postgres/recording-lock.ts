// One node records for a database at a time, for now: it holds a session advisory lock on a
// connection of its own. (Handing the work to several workers through a job queue is the next
// step of the fleet; until then a second recording node is refused at start instead of rendering
// every task twice.) A lock lost with its connection is taken again when the database is back.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const lockSql = "SELECT pg_try_advisory_lock(hashtext('cloudrec recording node')) AS held";

export class RecordingNodeTaken extends Error {
  override name = 'RecordingNodeTaken';
}

/** Takes the lock or throws RecordingNodeTaken; resolves with its release. */
export async function takeRecordingLock(url: string, onLost: (message: string) => void): Promise<() => Promise<void>> {
  let released = false;
  let client: pg.Client | undefined;
  const take = async (): Promise<boolean> => {
    const next = new pg.Client({ connectionString: url, application_name: `cloudrec recording lock ${process.pid}` });
    next.on('error', () => {});
    await next.connect();
    const { rows } = await next.query<{ held: boolean }>(lockSql);
    if (!rows[0]!.held) {
      await next.end();
      return false;
    }
    client = next;
    next.once('end', () => void retake());
    return true;
  };
  const retake = async () => {
    for (let delay = 500; !released; delay = Math.min(delay * 2, 5000)) {
      await sleep(delay);
      try {
        if (await take()) return;
        onLost('another node took the recording lock while this one was cut off from the database; this node keeps recording what it holds');
        return;
      } catch {
        // still away: try again
      }
    }
  };
  if (!(await take())) {
    throw new RecordingNodeTaken(
      'another node already records for this database (role worker or all). For now one node per database records: start this one with --role api.',
    );
  }
  return async () => {
    released = true;
    await client?.end().catch(() => {});
  };
}
