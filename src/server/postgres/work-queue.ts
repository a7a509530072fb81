// The fleet's work queue: making and uploading a task's files, handed to whichever worker takes it
// first, on pg-boss (README, "Running a fleet", says why pg-boss). One job per task at a time (the
// `exclusive` policy keyed by task id), so handing a task twice is harmless: every worker hands
// what it hears has ended, and the unfinished tasks again every 30 s, so none waits on a lost hand-off.
// A worker keeps a heartbeat on each job it holds; one that stops beating (killed, cut off) has its
// job failed by the supervisor of any live worker and taken up again by another.
import { PgBoss } from 'pg-boss';
import type { WorkQueue } from '../task-runner.js';

const queueName = 'cloudrec-finish-task';

export interface WorkQueueOptions {
  applicationName?: string;
  /** A job whose holder has not beaten for this long is taken from it (pg-boss's minimum is 10). */
  heartbeatSec?: number;
  /** How often a live worker looks for jobs whose holder stopped beating. */
  superviseSec?: number;
  /** Errors pg-boss reports while it goes on (a database away for a while): survived, never thrown. */
  onError?: (error: Error) => void;
}

export interface PgWorkQueue extends WorkQueue {
  /** Jobs waiting for a worker and jobs held by one, fleet-wide. */
  counts(): Promise<{ waiting: number; running: number }>;
  /** Whether pg-boss's schema is installed and answering. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long a handed task may wait before a worker takes it up, and how long one job may run: a day. */
const daySec = 24 * 3600;

export async function openWorkQueue(url: string, options: WorkQueueOptions = {}): Promise<PgWorkQueue> {
  const heartbeatSeconds = options.heartbeatSec ?? 15;
  // A job whose heartbeat is missed is taken back at the next monitoring pass of any worker: within
  // heartbeat + pass + a retry delay and a poll, 22 s by default.
  const passSec = options.superviseSec ?? 5;
  const boss = new PgBoss({
    connectionString: url,
    application_name: options.applicationName ?? 'cloudrec work queue',
    max: 4,
    schedule: false,
    superviseIntervalSeconds: passSec,
    monitorIntervalSeconds: passSec,
    connectionTimeoutMillis: 2000,
  });
  boss.on('error', (error: Error) => options.onError?.(error));
  await boss.start();
  await boss.createQueue(queueName, {
    policy: 'exclusive',
    heartbeatSeconds,
    // A render's length follows the recording's; the heartbeat, not this, tells a dead worker.
    expireInSeconds: daySec,
    retentionSeconds: daySec,
    deleteAfterSeconds: 3600,
    // A job fails only when its worker let go of it (a shutdown, a lost connection, a missed
    // heartbeat): the task itself records its own failures. So it is retried for as long as needed.
    retryLimit: 1_000_000,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 30,
  });
  let taking = false;
  return {
    async hand(taskId) {
      await boss.send(queueName, { task_id: taskId }, { singletonKey: String(taskId) });
    },
    async take(carry, concurrency) {
      if (taking) return;
      taking = true;
      await boss.work<{ task_id: number }>(
        queueName,
        { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 1 },
        async ([job]) => carry(job!.data.task_id, job!.signal!),
      );
    },
    async stopTaking() {
      if (!taking) return;
      taking = false;
      await boss.offWork(queueName, { wait: true });
    },
    async counts() {
      // Counted now, not from pg-boss's cached counts (refreshed once a minute).
      const { rows } = await boss
        .getDb()
        .executeSql(`SELECT count(*) FILTER (WHERE state < 'active') AS waiting, count(*) FILTER (WHERE state = 'active') AS running FROM pgboss.job WHERE name = $1 AND state <= 'active'`, [queueName]);
      return { waiting: Number(rows[0].waiting), running: Number(rows[0].running) };
    },
    async ready() {
      return (await boss.schemaVersion()) !== null;
    },
    async close() {
      taking = false;
      await boss.stop({ graceful: true, timeout: 5000, close: true });
    },
  };
}
