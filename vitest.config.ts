import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The docs site, built once for the tests that read it.
    globalSetup: ['test/support/docs-site.setup.ts'],
    // The slow fault tests have their own run: npm run test:faults.
    exclude: ['test/faults/**', 'node_modules/**'],
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
