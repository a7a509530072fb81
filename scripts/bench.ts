// `npm run bench`: speed and memory of the reference server and the recording pipeline, each as a
// ratio to a baseline measured in the same run on the same machine (absolute numbers vary with
// the machine; the ratios are what to compare between versions).
//   1. HTTP: POST /v1/cloudRecord on the reference server (an identical repeat, an invalid body, a
//      wrong key, a new task each request; with no task recording and with 10,000), and on the
//      Prism mock, against a bare node:http server answering the same JSON; each server in its own
//      process, autocannon in another (bench-support/http-bench.ts).
//   2. Rendering: a composite recording of 4 users against one plain ffmpeg encode of a single
//      test pattern on the same canvas for the same length: seconds of media per wall second.
//   3. The client: its bundle (openapi-fetch included, minified, gzipped) and sequential calls
//      through it against raw fetch, to one bare server in its own process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientBundleBytes, clientOverhead } from './bench-support/client-bench.js';
import { httpBench } from './bench-support/http-bench.js';
import { renderRecording } from '../src/recording/render.js';
import type { PresenceSpan } from '../src/recording/plan.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    recording: { type: 'string', default: '10000' },
    'media-seconds': { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const sections = values.only ? values.only.split(',') : ['start', 'render', 'client'];
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const recording = Number(values.recording);
const mediaSeconds = Number(values['media-seconds']);
const step = (text: string) => console.log(`\n== ${text}`);

async function startRequests() {
  step(`HTTP: autocannon in its own process, ${connections} connections, ${seconds} s rounds, ${rounds} rounds interleaved`);
  const rows = await httpBench({ connections, seconds, rounds, recording });
  console.log('');
  console.log(table(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'ratio to bare', 'p99 / bare p99'], rows.map((r) => [
    r.scenario + (Object.keys(r.unexpected).length ? ` (also ${JSON.stringify(r.unexpected)})` : ''),
    r.rps.toFixed(0),
    String(r.p50),
    String(r.p99),
    r.cpuUsPerRequest.toFixed(0),
    r.ratio.toFixed(3),
    r.p99Ratio.toFixed(2),
  ])));
  return rows;
}

/** Rows as an aligned text table, the first column left-aligned and the others right-aligned. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function rendering() {
  step(`rendering: ${mediaSeconds} s of media on a 360x640 canvas`);
  const dir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-render-'));
  try {
    console.log('baseline: ffmpeg encoding one test pattern, same canvas, codec and length');
    let started = performance.now();
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=360x640:rate=15:duration=${mediaSeconds}`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', join(dir, 'base.mp4')]);
    const baseline = mediaSeconds / ((performance.now() - started) / 1000);
    console.log('composite: 4 users (best-fit), audio mixed, one mix.mp4');
    const spans: PresenceSpan[] = [1, 2, 3, 4].map((uid) => ({ publisher: { uid, audio: true, video: true, dual_stream: false }, from: 0, to: mediaSeconds }));
    const settings = { isAudioOnly: 0, isVideoOnly: 0, is_mixing_enabled: 1, mixed_video_audio: 2, layout_mode: 1, stream_type: 0, audioProfile: 0, mixResolution: '360,640,15,500' } as const;
    started = performance.now();
    let shown = -1;
    await renderRecording({ settings, durationSec: mediaSeconds, spans }, dir, {
      onProgress: ({ done, total }) => {
        const tenth = Math.floor((done / total) * 4);
        if (tenth > shown) process.stdout.write(`  ${Math.round((done / total) * 100)}%\n`);
        shown = Math.max(shown, tenth);
      },
    });
    const composite = mediaSeconds / ((performance.now() - started) / 1000);
    console.log(`baseline ${baseline.toFixed(1)}× real time, composite ${composite.toFixed(1)}× real time: ratio ${(composite / baseline).toFixed(3)}`);
    return { baseline, composite };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function client() {
  step('client: bundle size and sequential calls against raw fetch');
  const bundle = await clientBundleBytes();
  console.log(`bundle of the client with openapi-fetch: ${bundle.minified} B minified, ${bundle.gzipped} B gzipped`);
  const overhead = await clientOverhead();
  console.log(`raw fetch ${overhead.raw.toFixed(0)} calls/s, client ${overhead.client.toFixed(0)} calls/s (medians); median ratio of the rounds ${overhead.ratio.toFixed(3)}`);
  return { bundle, overhead };
}

const started = performance.now();
const start = sections.includes('start') ? await startRequests() : undefined;
const render = sections.includes('render') ? await rendering() : undefined;
const calls = sections.includes('client') ? await client() : undefined;
console.log(`\nsummary (ratios to the same run's baselines; ${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
if (start) for (const row of start.slice(1)) console.log(`  ${row.scenario.padEnd(60)} ${row.ratio.toFixed(3)} of bare`);
if (render) console.log(`  composite render / plain encode:   ${(render.composite / render.baseline).toFixed(3)}`);
if (calls) {
  console.log(`  client calls / raw fetch:          ${calls.overhead.ratio.toFixed(3)}`);
  console.log(`  client bundle, gzipped:            ${calls.bundle.gzipped} B`);
}

// The run on record: what was measured, on what, at which commit.
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
const record = {
  date: new Date().toISOString(),
  commit: `${commit}${dirty ? '+changes' : ''}`,
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}` },
  node: process.version,
  options: { connections, seconds, rounds, recording, mediaSeconds, sections },
  http: start,
  render,
  client: calls,
};
const resultsDir = join(import.meta.dirname, '../bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${record.date.slice(0, 10)}-${record.commit}.json`);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
console.log(`\nwritten: ${file}`);
