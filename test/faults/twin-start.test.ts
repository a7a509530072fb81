// Two servers started at the same moment on one new data folder: one runs, the other is refused
// like any second server (exit 2, a message, no stack trace), round after round.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { freePort } from '../support/free-port.js';
import { projectRoot } from '../support/prism.js';

const rounds = 30;

/** Starts a compiled server on `dataDir`; resolves with how it ended, or 'running' once it listens (then stops it). */
async function server(dataDir: string): Promise<{ outcome: 'running' | number; output: string }> {
  const [port, storagePort] = [await freePort(), await freePort()];
  const child = spawn('node', [join(projectRoot, 'bin/cloudrec.js'), 'serve', '--port', String(port), '--demo-storage-port', String(storagePort), '--data-dir', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listening = false;
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!listening && /reference server on http/.test(output)) {
        listening = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ outcome: listening ? 'running' : (code ?? -1), output }));
  });
}

test(`two servers started at once on a new folder, ${rounds} rounds: one runs, the other exits 2 saying the folder is in use`, async () => {
  const losers = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudrec-twins-'));
    try {
      const both = await Promise.all([server(dir), server(dir)]);
      const running = both.filter((b) => b.outcome === 'running');
      const refused = both.filter((b) => b.outcome !== 'running');
      expect(running, `round ${round + 1}: ${both.map((b) => `${b.outcome}: ${b.output}`).join('\n---\n')}`).toHaveLength(1);
      expect(refused[0]!.outcome, refused[0]!.output).toBe(2);
      expect(refused[0]!.output).toMatch(/^cloudrec: The database .*cloudrec\.db is in use by another process/m);
      expect(refused[0]!.output).not.toMatch(/\n\s+at /);
      const said = refused[0]!.output.trim().split('\n').at(-1)!.replace(dir, '<dir>');
      losers.set(said, (losers.get(said) ?? 0) + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`${rounds} rounds; what the second server said: ${JSON.stringify(Object.fromEntries(losers))}`);
}, 180_000);
