// Global setup: the tests run on the repository's own Node (the `node` devDependency, first on the
// PATH of every npm script), not on whatever Node the machine has. An install that skipped the
// `node` package's install script (npm ci --ignore-scripts) would otherwise fall back silently.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export default function setup() {
  const root = join(import.meta.dirname, '../..');
  const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node;
  if (process.versions.node !== pinned) {
    throw new Error(`The tests run on Node ${pinned}, the repository's own (node_modules/.bin/node); this is ${process.versions.node}. Run them through npm (npm test), after npm ci with its install scripts.`);
  }
}
