// A throwaway PostgreSQL server from Debian's `postgresql` package, for the tests, the bench and
// `npm run cluster`: a new cluster in a temporary folder, on a free loopback port, its socket in
// that folder, stopped by its pid and removed. PostgreSQL refuses to run as root, so as root the
// cluster is made and run as the `postgres` user the package creates.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const install = 'Install it with ./scripts/install-system-packages.sh (Debian\'s postgresql package).';

/** The newest PostgreSQL's programs, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/postgres'))) : [];
  if (!versions.length) throw new Error(`PostgreSQL's server is not installed (no ${root}/<version>/bin/postgres). ${install}`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** The user and group the cluster runs as: the `postgres` user when this process is root, else this process's own. */
async function clusterUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  } catch {
    throw new Error(`PostgreSQL refuses to run as root and there is no postgres user to run it as. ${install}`);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().unref().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ThrowawayPostgres {
  /** `postgres://cloudrec@127.0.0.1:<port>/cloudrec` */
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid(): number;
  /** Stops the server (a fast shutdown: open connections are ended) and keeps its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
  /** What the server logged. */
  log(): string;
}

/** A new PostgreSQL cluster with a database `cloudrec` owned by the user `cloudrec`, running. */
export async function startThrowawayPostgres({ port: wanted }: { port?: number } = {}): Promise<ThrowawayPostgres> {
  const bin = postgresBin();
  const user = await clusterUser();
  const folder = mkdtempSync(join(tmpdir(), 'cloudrec-postgres-'));
  if (user.uid !== undefined) chownSync(folder, user.uid, user.gid!);
  const data = join(folder, 'data');
  const as = { ...user, cwd: folder, env: { ...process.env, LC_ALL: 'C' } };
  // -N: no fsync of the new files (a cluster made for a run); the server itself keeps its defaults.
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'cloudrec', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N'], as);
  const port = wanted ?? (await freePort());
  let child: ChildProcess | undefined;
  let log = '';

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const started = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', folder, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'], {
        ...as,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      let ready = false;
      const from = log.length;
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (!ready && log.includes('database system is ready to accept connections', from)) {
          ready = true;
          resolve();
        }
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', onData);
      started.once('exit', (code) => {
        if (!ready) reject(new Error(`PostgreSQL exited (${code}) before it was ready:\n${log}`));
      });
    });

  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGINT');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  await run(join(bin, 'createdb'), ['-h', folder, '-p', String(port), '-U', 'cloudrec', 'cloudrec'], as);
  return {
    url: `postgres://cloudrec@127.0.0.1:${port}/cloudrec`,
    port,
    pid: () => child!.pid!,
    stop,
    start,
    async remove() {
      await stop();
      rmSync(folder, { recursive: true, force: true });
    },
    log: () => log,
  };
}
