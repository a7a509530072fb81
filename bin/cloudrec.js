#!/usr/bin/env node
// The `cloudrec` command: the CLI compiled to dist/ (by `npm run build`, which `npm ci` runs, or
// shipped in the cloudrec-server package). In a checkout that has not been built, it runs the
// TypeScript source through tsx instead, a dev dependency.
import { existsSync } from 'node:fs';

// The server keeps its data with node:sqlite, built into Node from 22.13 (the package's `engines`).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(`cloudrec needs Node.js 22.13 or later (24 LTS recommended); this is Node.js ${process.versions.node}.`);
  process.exit(2);
}

// Node 22 calls its built-in SQLite driver, which the server keeps its tasks in, experimental and
// says so on every start; Node 24 does not. That one notice is left out, every other warning kept.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && String(warning).startsWith('SQLite is an experimental feature')) return;
  return emitWarning.call(this, warning, ...rest);
};

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(process.argv.slice(2));
// serve and mock keep running until a signal; everything else ends here.
if (code !== 0 || !['serve', 'mock'].includes(process.argv[2] ?? '')) process.exitCode = code;
