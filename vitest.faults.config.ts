import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the slow tests that start, starve and kill processes (test/faults/).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/pinned-node.setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // One at a time: they measure processes, disks and connections of the whole machine.
    fileParallelism: false,
  },
});
