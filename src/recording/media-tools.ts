// What the recording pipeline needs of ffmpeg and ffprobe, checked when the server starts: a server
// that cannot record says so then, not when its first recording stops.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The filters the renders use (a test records every render's arguments and holds this list to them). */
export const requiredFilters = [
  'aformat', 'alimiter', 'amix', 'aresample', 'color', 'crop', 'drawtext', 'format', 'fps', 'overlay',
  'pad', 'scale', 'setsar', 'sine', 'split', 'testsrc2', 'volume',
] as const;
/** The encoders the files are made with. */
export const requiredEncoders = ['libx264', 'aac'] as const;
/** Filter options the renders rely on, newer than the filters themselves (amix's normalize: FFmpeg 4.4). */
const requiredOptions = [{ filter: 'amix', option: 'normalize' }] as const;

const install = 'Install FFmpeg 5 or newer (it brings ffprobe): `sudo apt-get install ffmpeg` on Debian or Ubuntu, `brew install ffmpeg` on macOS, or see https://ffmpeg.org/download.html.';

/** What `command -h …` printed, or undefined when the command cannot be run at all. */
async function output(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run(command, ['-hide_banner', ...args], { maxBuffer: 8 * 1024 * 1024, timeout: 20_000 });
    return stdout;
  } catch (error) {
    const { code, stdout } = error as { code?: unknown; stdout?: string };
    // ffmpeg answers -h with exit code 0, but some builds exit 1 after printing; what it printed counts.
    return code === 'ENOENT' || code === 'EACCES' || !stdout ? undefined : stdout;
  }
}

/** Names listed in `ffmpeg -filters` / `-encoders` output (" T.. name  in->out  description"). */
const listed = (text: string) => new Set(text.split('\n').map((line) => /^ [A-Z.|]{3,6} (\S+)/.exec(line)?.[1]).filter(Boolean));

/**
 * Problems that keep this machine from recording, each a sentence naming what is missing; empty
 * when ffmpeg and ffprobe are there with everything the renders use.
 */
export async function mediaToolProblems({ ffmpegPath = 'ffmpeg', ffprobePath = 'ffprobe' } = {}): Promise<string[]> {
  const [filters, encoders, version, probe] = await Promise.all([
    output(ffmpegPath, ['-filters']),
    output(ffmpegPath, ['-encoders']),
    output(ffmpegPath, ['-version']),
    output(ffprobePath, ['-version']),
  ]);
  const problems: string[] = [];
  if (filters === undefined || encoders === undefined) problems.push(`${ffmpegPath} was not found (or cannot be run) on the PATH.`);
  else {
    const name = /^ffmpeg version (\S+)/.exec(version ?? '')?.[1] ?? '(unknown version)';
    const haveFilters = listed(filters);
    const haveEncoders = listed(encoders);
    const missing = [
      ...requiredFilters.filter((f) => !haveFilters.has(f)).map((f) => `the ${f} filter`),
      ...requiredEncoders.filter((e) => !haveEncoders.has(e)).map((e) => `the ${e} encoder`),
    ];
    for (const { filter, option } of requiredOptions) {
      if (haveFilters.has(filter) && !(await output(ffmpegPath, ['-h', `filter=${filter}`]))?.includes(` ${option} `)) {
        missing.push(`the ${option} option of ${filter}`);
      }
    }
    if (missing.length) problems.push(`${ffmpegPath} ${name} lacks ${missing.join(', ')}.`);
  }
  if (probe === undefined) problems.push(`${ffprobePath} was not found (or cannot be run) on the PATH.`);
  return problems.length ? [...problems, install] : [];
}
