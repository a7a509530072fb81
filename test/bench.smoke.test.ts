// The benchmark harness keeps working (no timing is asserted: figures come from `npm run bench`).
import { expect, test } from 'vitest';
import { clientBundleBytes, clientOverhead } from '../scripts/bench-support/client-bench.js';
import { httpBench } from '../scripts/bench-support/http-bench.js';

test('the client benchmark bundles the client and measures both kinds of call against its own server', async () => {
  const bundle = await clientBundleBytes();
  expect(bundle.gzipped).toBeGreaterThan(500);
  expect(bundle.gzipped).toBeLessThan(bundle.minified);
  const overhead = await clientOverhead({ calls: 20, rounds: 2, warmup: 5 });
  for (const value of [overhead.raw, overhead.client, overhead.ratio]) expect(value).toBeGreaterThan(0);
});

test('the HTTP benchmark runs every scenario against servers of its own, each answered as expected', async () => {
  const rows = await httpBench({ connections: 2, seconds: 1, rounds: 1, recording: 50, pool: 3000 });
  expect(rows.map((r) => r.scenario)).toHaveLength(10);
  for (const row of rows) {
    expect(row.rps, row.scenario).toBeGreaterThan(0);
    expect(row.unexpected, row.scenario).toEqual({});
  }
}, 120_000);
