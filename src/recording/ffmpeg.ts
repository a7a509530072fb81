// Runs one ffmpeg command: progress from `-progress pipe:1`, stopped by an AbortSignal, and a
// failure that says what ffmpeg said last.
import { spawn } from 'node:child_process';

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
    const child = spawn(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^out_time_us=(\d+)/.exec(line);
        if (match) onProgress?.(Math.min(durationSec, Number(match[1]) / 1e6));
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
