// Runs one ffmpeg command: progress from `-progress pipe:1`, stopped by an AbortSignal, and a
// failure that says what ffmpeg said last.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

// On Linux, ffmpeg is started through util-linux's setpriv with a parent-death signal: if the
// server is killed (SIGKILL included), its renders die with it instead of running on as orphans.
const setpriv = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;

/** `command args` as spawned: under setpriv --pdeathsig KILL where there is one. */
export function boundToServer(command: string, args: string[]): [string, string[]] {
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

export interface FfmpegRun {
  args: string[];
  /** Seconds of output expected, for progress. */
  durationSec: number;
  onProgress?: (doneSec: number) => void;
  signal?: AbortSignal;
  ffmpegPath?: string;
}

/** Resolves when ffmpeg exits 0; rejects with its last stderr lines otherwise. */
export function runFfmpeg({ args, durationSec, onProgress, signal, ffmpegPath = 'ffmpeg' }: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const [command, argv] = boundToServer(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', ...args]);
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^out_time_us=(\d+)/.exec(line);
        if (!match) continue;
        try {
          onProgress?.(Math.min(durationSec, Number(match[1]) / 1e6));
        } catch (error) {
          // Thrown inside a stream event it would end the process: end this run with it instead.
          child.kill('SIGKILL');
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const abort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(new Error(`could not run ${ffmpegPath}: ${error.message}`));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      if (signal?.aborted) return reject(new Error('aborted'));
      if (code === 0) return resolve();
      const tail = stderr.trim().split('\n').slice(-5).join('\n');
      reject(new Error(`ffmpeg exited with ${code}: ${tail}`));
    });
  });
}
