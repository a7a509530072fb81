// `npm run cluster` as a user runs it: every part comes up and prints its line, a start through one
// API node is the same task through the other, and SIGTERM stops every process it started
// (PostgreSQL and the nodes).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { projectRoot } from '../support/prism.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether nothing listens on the loopback port any more. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

test('npm run cluster starts PostgreSQL, storage, two API nodes and two workers with the demo project, and stops them all on SIGTERM', async () => {
  const child = spawn(join(projectRoot, 'node_modules/.bin/tsx'), [join(projectRoot, 'scripts/cluster.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    while (!output.includes('Stop everything: Ctrl-C')) {
      if (child.exitCode !== null) throw new Error(`cluster exited:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const apis = [...output.matchAll(/^api (http:\/\/127\.0\.0\.1:\d+)$/gm)].map((m) => m[1]!);
    const workers = [...output.matchAll(/^worker (\d+) \((\d+) render slots?, metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics\)$/gm)].map(
      (m) => [Number(m[1]), Number(m[2]), m[3]!] as const,
    );
    expect(apis).toHaveLength(2);
    expect(workers).toHaveLength(2);
    for (const [, slots, base] of workers) {
      expect(slots).toBeGreaterThan(0);
      // A worker is ready (database, schema, queue) and answers only the operations API.
      expect(await fetch(`${base}/readyz`).then((r) => r.json())).toMatchObject({ status: 'ready' });
      expect((await fetch(`${base}/sandbox/tasks`)).status).toBe(404);
    }
    expect(output).toMatch(/^database postgres:\/\/cloudrec@127\.0\.0\.1:\d+\/cloudrec$/m);
    expect(output).toMatch(/^storage http:\/\/127\.0\.0\.1:\d+ \(bucket recordings\)$/m);
    const body = /-d '(\{.*\})'/.exec(output)![1]!;
    const start = (base: string) => fetch(`${base}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.json());
    const first = (await start(apis[0]!)) as { code: string; task_id: number };
    expect(first).toMatchObject({ code: 'success' });
    expect(await start(apis[1]!)).toEqual(first);
    const databasePort = Number(/^database postgres:\/\/cloudrec@127\.0\.0\.1:(\d+)\//m.exec(output)![1]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const [pid] of workers) expect(alive(pid), `worker ${pid}`).toBe(false);
    for (const api of apis) await expect(fetch(`${api}/openapi.json`), api).rejects.toThrow();
    expect(await refused(databasePort), 'PostgreSQL still listening').toBe(true);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 90_000);
