// GET /readyz's checks: what a node needs to do its work, looked at each time it is asked. Each
// check has its own time limit, so a database that does not answer makes the probe fail in 2
// seconds, not hang until the load balancer gives up.
import type { SchemaReadinessCheck as ReadinessCheck } from '../../generated/operations-types.js';

export type { ReadinessCheck };

type MaybePromise<T> = T | Promise<T>;

export interface ReadinessSources {
  /** The database's name, for the words: SQLite or PostgreSQL. */
  engine: string;
  /** The schema version the database holds, read with one query. */
  schemaVersion(): MaybePromise<number>;
  /** The version this node needs. */
  neededVersion: number;
  /** Whether the work queue answers (a worker of a fleet); absent where there is none. */
  queue?(): Promise<boolean>;
  /** Why the node is shutting down, when it is. */
  shuttingDown(): string | undefined;
}

const limitMs = 2000;

/** `work`, or a rejection once `limitMs` has passed. */
async function within<T>(work: () => MaybePromise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${limitMs / 1000} s`)), limitMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(work), late]);
  } finally {
    clearTimeout(timer);
  }
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function checkReadiness(sources: ReadinessSources): Promise<ReadinessCheck[]> {
  const started = performance.now();
  const [version, queue] = await Promise.allSettled([within(sources.schemaVersion), sources.queue && within(sources.queue)]);
  const checks: ReadinessCheck[] = [];
  if (version.status === 'fulfilled') {
    checks.push(
      { name: 'database', ok: true, detail: `${sources.engine} answered in ${Math.round(performance.now() - started)} ms` },
      version.value === sources.neededVersion
        ? { name: 'schema', ok: true, detail: `schema version ${version.value}, as this node needs` }
        : { name: 'schema', ok: false, detail: `schema version ${version.value}; this node needs ${sources.neededVersion}` },
    );
  } else {
    checks.push(
      { name: 'database', ok: false, detail: `${sources.engine} did not answer: ${reason(version.reason)}` },
      { name: 'schema', ok: false, detail: 'not checked: the database did not answer' },
    );
  }
  if (sources.queue) {
    checks.push(
      queue.status === 'rejected' ? { name: 'queue', ok: false, detail: `the work queue did not answer: ${reason(queue.reason)}` }
      : queue.value ? { name: 'queue', ok: true, detail: 'the work queue answered' }
      : { name: 'queue', ok: false, detail: "the work queue's schema is not installed" },
    );
  }
  const stopping = sources.shuttingDown();
  checks.push(stopping ? { name: 'shutdown', ok: false, detail: `shutting down (${stopping})` } : { name: 'shutdown', ok: true, detail: 'not shutting down' });
  return checks;
}
