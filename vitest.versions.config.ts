import { defineConfig } from 'vitest/config';

// `npm run test:versions`: the packed packages under each Node.js line (test/versions/), with the
// binaries scripts/node-versions.ts fetched.
export default defineConfig({
  test: {
    include: ['test/versions/**/*.test.ts'],
    globalSetup: ['test/support/pinned-node.setup.ts', 'test/support/docs-site.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
