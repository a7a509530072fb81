// Global setup: the docs site is built once per test run, into a temp folder, and its path given
// to the tests that read it (the docs tests, the browser test, the packed server package), where
// each used to build its own (13 s of 2 busy cores each).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    docsSite: string;
  }
}

export default function setup(project: TestProject) {
  const out = mkdtempSync(join(tmpdir(), 'cloudrec-docs-site-'));
  const root = join(import.meta.dirname, '../..');
  execFileSync(join(root, 'node_modules/.bin/tsx'), ['scripts/build-docs.ts', '--out', out], { cwd: root, stdio: 'pipe' });
  project.provide('docsSite', out);
  return () => rmSync(out, { recursive: true, force: true });
}
