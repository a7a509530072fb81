// The benchmark harness keeps working (no timing is asserted: figures come from `npm run bench`).
import { expect, test } from 'vitest';
import { clientBundleBytes, clientOverhead } from '../scripts/bench-support/client-bench.js';
import { endedTogetherBench } from '../scripts/bench-support/ended-together-bench.js';
import { driverBench, httpBench, startupBench, webhookBench } from '../scripts/bench-support/http-bench.js';
import { workersBench } from '../scripts/bench-support/workers-bench.js';

test('the client benchmark bundles the client and measures both kinds of call against its own server', async () => {
  const bundle = await clientBundleBytes();
  expect(bundle.gzipped).toBeGreaterThan(500);
  expect(bundle.gzipped).toBeLessThan(bundle.minified);
  const overhead = await clientOverhead({ calls: 20, rounds: 2, warmup: 5 });
  for (const value of [overhead.raw, overhead.client, overhead.ratio]) expect(value).toBeGreaterThan(0);
});

test('the HTTP benchmark runs every scenario against servers of its own, each answered as expected', async () => {
  const { rows, memory } = await httpBench({ connections: 2, seconds: 1, rounds: 1, recording: 50, pool: 3000 });
  expect(rows.map((r) => r.scenario)).toHaveLength(10);
  for (const row of rows) {
    expect(row.rps, row.scenario).toBeGreaterThan(0);
    expect(row.unexpected, row.scenario).toEqual({});
  }
  expect(memory.recording).toBe(50);
  expect(memory.busyRss).toBeGreaterThan(0);
}, 120_000);

test('the webhook benchmark starts tasks on servers with and without a webhook, and every event reaches the answering receiver', async () => {
  const result = await webhookBench({ connections: 2, seconds: 1, rounds: 1, pool: 3000 });
  expect(result.rows.map((r) => r.scenario)).toHaveLength(4);
  for (const row of result.rows) {
    expect(row.rps, row.scenario).toBeGreaterThan(0);
    expect(row.unexpected, row.scenario).toEqual({});
  }
  // Its first answer's task and each task of the round: every one an event that arrived.
  expect(result.delivered).toBeGreaterThan(1);
  expect(result.eventsPerSec).toBeGreaterThan(0);
}, 120_000);

test('the driver benchmark runs the same server on node:sqlite and on better-sqlite3, each answering as expected', async () => {
  const result = await driverBench({ connections: 2, seconds: 1, rounds: 1, tasks: 200, pool: 3000 });
  expect(result.rows.map((r) => r.scenario)).toEqual([
    'bare node:http, the same JSON',
    'node:sqlite: identical repeat of an active start',
    'node:sqlite: a new task each request',
    'better-sqlite3: identical repeat of an active start',
    'better-sqlite3: a new task each request',
  ]);
  for (const row of result.rows) {
    expect(row.rps, row.scenario).toBeGreaterThan(0);
    expect(row.unexpected, row.scenario).toEqual({});
  }
  expect(result.startupMs['node:sqlite']).toBeGreaterThan(0);
  expect(result.startupMs['better-sqlite3']).toBeGreaterThan(0);
}, 120_000);

test('the start-up benchmark starts servers on an empty and on a filled database, each answering its first start', async () => {
  const result = await startupBench({ tasks: 200, rounds: 1 });
  expect(result.tasks).toBe(200);
  expect(result.emptyMs).toBeGreaterThan(0);
  expect(result.fullMs).toBeGreaterThan(0);
}, 60_000);

test('the ended-together benchmark finalizes its recordings with real renders, one at a time and side by side', async () => {
  const result = await endedTogetherBench(1, 2);
  expect(result.count).toBe(2);
  expect(result.oneAtATimeSec).toBeGreaterThan(0);
  expect(result.sideBySideSec).toBeGreaterThan(0);
}, 60_000);

test('the workers benchmark records, renders and uploads through one worker and then two of the fleet, reading their metrics', async () => {
  const result = await workersBench({ count: 2, mediaSeconds: 1 });
  expect(result.rounds.map((r) => r.workers)).toEqual([1, 2]);
  for (const round of result.rounds) {
    expect(round.seconds).toBeGreaterThan(0);
    expect(round.renderPerMediaSecond).toBeGreaterThan(0);
  }
}, 120_000);
