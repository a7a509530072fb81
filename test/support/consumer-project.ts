// A fresh project that installs our packed tarballs, as a user's project would, with no network:
// its lockfile is made here from the tarballs and the checkout's own package-lock.json (whose
// packages `npm ci` has put in the npm cache), so `npm ci --offline` resolves every dependency
// exactly as the checkout does, from the cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { projectRoot } from './prism.js';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

export interface Manifest extends LockEntry {
  name: string;
  version: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

/** The package.json inside a packed tarball. */
export const tarballManifest = (tarball: string): Manifest =>
  JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest;

const rootLock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** Where Node would find `name` when required from the package at `from` in the checkout's tree. */
function locate(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
    const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (rootLock.packages[path]) return path;
    if (!dir) return undefined;
  }
}

/** The lock entries of every package `dependencies` pull in, as the checkout's tree has them. */
function closure(dependencies: Record<string, string>, from: string, into: Map<string, LockEntry>) {
  for (const name of Object.keys(dependencies)) {
    const path = locate(name, from);
    if (!path || into.has(path)) continue; // absent: an optional dependency for another platform
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = rootLock.packages[path]!;
    into.set(path, entry);
    // npm installs peers too, unless they are marked optional.
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((peer) => !entry.peerDependenciesMeta?.[peer]?.optional);
    closure({ ...entry.dependencies, ...entry.optionalDependencies, ...Object.fromEntries(peers.map((p) => [p, '*'])) }, path, into);
  }
}

/** What npm printed while installing. */
export interface InstallOutput {
  stdout: string;
  stderr: string;
}

/** The lines of npm's output that warn (engine, deprecation, install scripts, …). */
export const npmWarnings = ({ stdout, stderr }: InstallOutput) => `${stdout}\n${stderr}`.split('\n').filter((line) => /^npm (warn|WARN)/.test(line));

/**
 * Writes `dir/package.json` depending on each tarball, and its lockfile, then runs
 * `npm ci --offline` as a user with no npm settings of their own would (this machine's user
 * config is left out), under the Node first on `env.PATH`; resolves with npm's output.
 */
export function installTarballs(dir: string, tarballs: string[], env: NodeJS.ProcessEnv = process.env): InstallOutput {
  const packages = new Map<string, LockEntry>();
  const dependencies: Record<string, string> = {};
  for (const tarball of tarballs) {
    const local = basename(tarball);
    copyFileSync(tarball, join(dir, local));
    const manifest = tarballManifest(tarball);
    dependencies[manifest.name] = `file:${local}`;
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const { name: _name, version, license, bin, engines, peerDependencies, peerDependenciesMeta } = manifest;
    const own = { version, resolved: `file:${local}`, integrity, license, dependencies: manifest.dependencies, bin, engines, peerDependencies, peerDependenciesMeta };
    packages.set(`node_modules/${manifest.name}`, JSON.parse(JSON.stringify(own)) as LockEntry);
  }
  for (const tarball of tarballs) {
    const manifest = tarballManifest(tarball);
    closure(manifest.dependencies ?? {}, `node_modules/${manifest.name}`, packages);
  }
  const manifest = { name: 'consumer', version: '1.0.0', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const lock = { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': manifest, ...Object.fromEntries(packages) } };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  const userconfig = join(dir, '.npmrc-user');
  writeFileSync(userconfig, '');
  const installed = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...env, npm_config_userconfig: userconfig },
  });
  if (installed.status !== 0) throw new Error(`npm ci in ${dir} failed (${installed.status}):\n${installed.stdout}${installed.stderr}`);
  return { stdout: installed.stdout, stderr: installed.stderr };
}

/** The packages installed under `dir`, the project itself left out (`npm ls --all`). */
export function installedPackages(dir: string): string[] {
  const out = execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: dir, encoding: 'utf8' });
  return out.trim().split('\n').slice(1);
}

/** The packages installed under `dir` that build natively or run a script at install, each as "name (why)". */
export function packagesBuiltAtInstall(dir: string): string[] {
  return installedPackages(dir).flatMap((path) => {
    const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as Manifest & { scripts?: Record<string, string>; gypfile?: boolean };
    const why = [
      ...(manifest.gypfile || existsSync(join(path, 'binding.gyp')) ? ['a native build'] : []),
      ...['preinstall', 'install', 'postinstall'].filter((hook) => manifest.scripts?.[hook]).map((hook) => `a ${hook} script`),
    ];
    return why.length ? [`${manifest.name} (${why.join(', ')})`] : [];
  });
}
