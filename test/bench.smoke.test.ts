// The benchmark harness keeps working (no timing is asserted: figures come from `npm run bench`).
import { expect, test } from 'vitest';
import { clientBundleBytes, clientOverhead } from '../scripts/bench-support/client-bench.js';

test('the client benchmark bundles the client and measures both kinds of call against its own server', async () => {
  const bundle = await clientBundleBytes();
  expect(bundle.gzipped).toBeGreaterThan(500);
  expect(bundle.gzipped).toBeLessThan(bundle.minified);
  const overhead = await clientOverhead({ calls: 20, rounds: 2, warmup: 5 });
  for (const value of [overhead.raw, overhead.client, overhead.ratio]) expect(value).toBeGreaterThan(0);
});
