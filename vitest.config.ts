import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The docs site, built once for the tests that read it.
    globalSetup: ['test/support/pinned-node.setup.ts', 'test/support/docs-site.setup.ts'],
    // The slow fault tests and the Node version matrix have their own runs: npm run test:faults, test:versions.
    exclude: ['test/faults/**', 'test/versions/**', 'node_modules/**'],
    // Most test files wait on processes of their own (servers, ffmpeg, Chromium): two at a time
    // keep both cores busy, where the default (cores - 1) ran them one by one.
    maxWorkers: 2,
    // Tests start real processes (Prism, the reference server); give them room on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
