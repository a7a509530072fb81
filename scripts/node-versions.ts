// The Node.js versions the packages are tested on, and their binaries: the npm registry's
// `node-<platform>-<arch>` packages (the ones the `node` package installs), unpacked into
// .cache/node/<version>/ (outside node_modules, which npm prunes). The repository's own Node is
// the `node` devDependency; the others are fetched by `npm run test:versions`
// (`tsx scripts/node-versions.ts`), with the system's npm.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from './redocly.js';

const pinned = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node!;

/** The newest release of each line tested, at the time of writing; the pinned one for 24. */
const releases = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.5', 24: pinned, 26: '26.12.1' } as const;

/** Where the client package is run: every line still in use, back to the oldest its `engines` allows. */
export const clientNodes = [releases[18], releases[20], releases[22], releases[24], releases[26]];
/** Where the server package is installed and started: the lines its `engines` allows. */
export const serverNodes = [releases[22], releases[24], releases[26]];

const cache = join(projectRoot, '.cache/node');

/** The `node` binary of `version`: the repository's own for the pinned one, else the unpacked package's. */
export function nodeBinary(version: string): string {
  if (version === pinned) return join(projectRoot, 'node_modules/node/bin/node');
  return join(cache, version, 'bin/node');
}

/** Fetches and unpacks every version not yet there; says what it does, one line each. */
export function installNodeVersions(versions = [...new Set([...clientNodes, ...serverNodes])]) {
  for (const version of versions) {
    const binary = nodeBinary(version);
    if (existsSync(binary)) {
      console.log(`node ${version}: ${binary}`);
      continue;
    }
    const name = `node-${process.platform}-${process.arch}@${version}`;
    console.log(`node ${version}: fetching ${name} from the npm registry`);
    mkdirSync(cache, { recursive: true });
    const work = mkdtempSync(join(cache, '.fetch-'));
    try {
      const [packed] = JSON.parse(execFileSync('npm', ['pack', name, '--json', '--pack-destination', work], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { filename: string }[];
      execFileSync('tar', ['-xzf', join(work, packed!.filename), '-C', work]);
      rmSync(join(cache, version), { recursive: true, force: true });
      renameSync(join(work, 'package'), join(cache, version));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const said = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    if (said !== `v${version}`) throw new Error(`${binary} says it is ${said}, not v${version}`);
    console.log(`node ${version}: ${binary}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  installNodeVersions();
}
