// The folder of the package this code runs from, which holds generated/ and docs/: the checkout
// (src/ run by tsx, or dist/src compiled) or the installed server package (dist/src inside it).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    // A package.json with a name: nested ones that only set "type" are not a package's root.
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

export const packageRoot = findPackageRoot(import.meta.dirname);
