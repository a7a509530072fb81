// Runs the project's pinned Redocly CLI with telemetry and update checks off (the machine may be offline).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '..');

/** Runs `redocly <args>` in the project root and returns its output; throws on a failing exit. */
export function redocly(args: string[], { allowFailure = false } = {}): SpawnSyncReturns<string> {
  const run = spawnSync(join(projectRoot, 'node_modules/.bin/redocly'), args, {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (run.error) throw run.error;
  if (run.status !== 0 && !allowFailure) {
    throw new Error(`redocly ${args.join(' ')} exited with ${run.status}:\n${run.stderr}${run.stdout}`);
  }
  return run;
}
