// `npm run bench`: speed and memory of the reference server and the recording pipeline, each as a
// ratio to a baseline measured in the same run on the same machine (absolute numbers vary with
// the machine; the ratios are what to compare between versions).
//   1. Start requests: the real POST /v1/cloudRecord (validation, credentials, preconditions, a
//      durable SQLite write, response checked against the spec) against a bare Fastify route that
//      answers the same JSON: requests per second, and the server's memory growth.
//   2. Rendering: a composite recording of 4 users against one plain ffmpeg encode of a single
//      test pattern on the same canvas for the same length: seconds of media per wall second.
//   3. The client: its bundle (openapi-fetch included, minified, gzipped) and sequential calls
//      through it against raw fetch, to one bare server in its own process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { clientBundleBytes, clientOverhead } from './bench-support/client-bench.js';
import { renderRecording } from '../src/recording/render.js';
import type { PresenceSpan } from '../src/recording/plan.js';
import { buildApp } from '../src/server/app.js';
import { defaultConfig } from '../src/server/config.js';
import { openDatabase } from '../src/server/database.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const sections = values.only ? values.only.split(',') : ['start', 'render', 'client'];
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const mediaSeconds = Number(values.seconds);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const step = (text: string) => console.log(`\n== ${text}`);

/** Sends `requests` POSTs (at `concurrency` at a time); returns requests per second. */
async function load(url: string, body: (i: number) => string): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) });
      await response.arrayBuffer();
      if (response.status >= 500) throw new Error(`answered ${response.status}`);
      if (++done % Math.ceil(requests / 4) === 0) process.stdout.write(`  ${done}/${requests}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return requests / ((performance.now() - started) / 1000);
}

async function startRequests() {
  step(`start requests: ${requests} at concurrency ${concurrency}`);
  const answer = JSON.stringify({ code: 'success', task_id: 40 });
  const bare = Fastify({ logger: false });
  bare.post('/v1/cloudRecord', async (_req, reply) => reply.type('application/json').send(answer));
  const bareUrl = `${await bare.listen({ host: '127.0.0.1', port: 0 })}/v1/cloudRecord`;
  console.log('baseline: a bare Fastify route answering the same JSON');
  const baseline = await load(bareUrl, () => '{}');
  await bare.close();

  const dataDir = mkdtempSync(join(tmpdir(), 'cloudrec-bench-'));
  const db = openDatabase(join(dataDir, 'bench.db'));
  const { app, projects, channels } = buildApp({ config: { ...defaultConfig, rateLimitPerSec: 1_000_000, logLevel: 'silent' }, db });
  projects.put('bench-app', 'bench-proj', {
    sign_key: 'bench-key',
    recording_enabled: true,
    storage: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'recordings', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true },
  });
  // Every request a new task: a channel of its own with a user in it, so each one writes to disk.
  for (let i = 0; i < requests; i++) channels.join('bench-app', `room-${i}`, 1, { audio: true, video: true, dual_stream: false });
  const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1/cloudRecord`;
  console.log('POST /v1/cloudRecord on the reference server (each request a new task, written with synchronous=FULL)');
  const rssBefore = process.memoryUsage().rss;
  const server = await load(url, (i) => JSON.stringify({ app_id: 'bench-app', project_id: 'bench-proj', sign_key: 'bench-key', channel: `room-${i}`, is_mixing_enabled: i % 2 }));
  const rssAfter = process.memoryUsage().rss;
  await app.close();
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`baseline ${baseline.toFixed(0)} req/s, reference server ${server.toFixed(0)} req/s: ratio ${(server / baseline).toFixed(3)}`);
  console.log(`memory: rss ${mb(rssBefore)} MB before, ${mb(rssAfter)} MB after ${requests} tasks (+${mb(rssAfter - rssBefore)} MB)`);
  return { baseline, server };
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
if (start) console.log(`  start requests / bare route:       ${(start.server / start.baseline).toFixed(3)}`);
if (render) console.log(`  composite render / plain encode:   ${(render.composite / render.baseline).toFixed(3)}`);
if (calls) {
  console.log(`  client calls / raw fetch:          ${calls.overhead.ratio.toFixed(3)}`);
  console.log(`  client bundle, gzipped:            ${calls.bundle.gzipped} B`);
}
