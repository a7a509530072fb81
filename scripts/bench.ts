// `npm run bench`: speed and memory of the reference server and the recording pipeline, each as a
// ratio to a baseline measured in the same run on the same machine (absolute numbers vary with
// the machine; the ratios are what to compare between versions).
//   1. HTTP: POST /v1/cloudRecord on the reference server (an identical repeat, an invalid body, a
//      wrong key, a new task each request; with no task recording and with 10,000), and on the
//      Prism mock, against a bare node:http server answering the same JSON; each server in its own
//      process, autocannon in another (bench-support/http-bench.ts).
//      Memory per recording task: the resident memory of the server with 10,000 recording, less
//      that of the one with none.
//   2. Start-up: time from the spawn to the first answer with 100,000 ended tasks in the database,
//      against an empty one.
//   3. Rendering: composites of 4, 9 and 17 users at the default and at 1280x720, and individual
//      files, each against one plain ffmpeg encode of a test pattern of the same size, frame rate
//      and length (bench-support/render-bench.ts): seconds of media per wall second. Then four
//      recordings stopped together, finalized by the task runner one render at a time and one a
//      core (bench-support/ended-together-bench.ts): seconds from the stop to the last one done.
//   4. The client: its bundle (openapi-fetch included, minified, gzipped) and sequential calls
//      through it against raw fetch, to one bare server in its own process.
//   5. SQLite drivers: the same server on node:sqlite and on better-sqlite3 (a devDependency, kept
//      for this comparison), an identical repeat and a new task each request against the bare
//      server, and start-up with 100,000 tasks.
//   7. Webhooks: a new task each request on a server whose project has no webhook, one whose
//      webhook answers (its events delivered while the starts go on), one whose webhook never
//      answers, against the bare server; how fast the events arrive (bench-support/http-bench.ts).
//   6. The fleet: the server as an API node on a throwaway PostgreSQL and on its SQLite file, an
//      identical repeat and a new task each request, against the bare server; an API node's memory
//      per recording task (bench-support/http-bench.ts, fleetBench); then the same renders through
//      one worker and through two, each pinned to a core of its own (bench-support/workers-bench.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientBundleBytes, clientOverhead } from './bench-support/client-bench.js';
import { betterSqlite3Version, driverBench, fleetBench, httpBench, startupBench, webhookBench, type HttpRow } from './bench-support/http-bench.js';
import { endedTogetherBench } from './bench-support/ended-together-bench.js';
import { workersBench } from './bench-support/workers-bench.js';
import { renderBench } from './bench-support/render-bench.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    recording: { type: 'string', default: '10000' },
    'startup-tasks': { type: 'string', default: '100000' },
    'media-seconds': { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const sections = values.only ? values.only.split(',') : ['start', 'startup', 'render', 'client', 'drivers', 'fleet', 'webhooks'];
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const recording = Number(values.recording);
const mediaSeconds = Number(values['media-seconds']);
const step = (text: string) => console.log(`\n== ${text}`);

async function startRequests() {
  step(`HTTP: autocannon in its own process, ${connections} connections, ${seconds} s rounds, ${rounds} rounds interleaved`);
  const { rows, memory } = await httpBench({ connections, seconds, rounds, recording });
  console.log('');
  console.log(httpTable(rows));
  return { rows, memory };
}

/** HTTP rows as a table: throughput, latency, the server's CPU, each against the bare server. */
function httpTable(rows: HttpRow[]): string {
  return table(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'ratio to bare', 'p99 / bare p99'], rows.map((r) => [
    r.scenario + (Object.keys(r.unexpected).length ? ` (also ${JSON.stringify(r.unexpected)})` : ''),
    r.rps.toFixed(0),
    String(r.p50),
    String(r.p99),
    r.cpuUsPerRequest.toFixed(0),
    r.ratio.toFixed(3),
    r.p99Ratio.toFixed(2),
  ]));
}

/** Rows as an aligned text table, the first column left-aligned and the others right-aligned. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function rendering() {
  step(`rendering: ${mediaSeconds} s of media each, against a plain encode of the same size, rate and length`);
  const rows = await renderBench(mediaSeconds);
  console.log('');
  console.log(table(['scenario', 'wall s', '× real time', 'plain encode ×', 'ratio to plain'], rows.map((r) => [r.scenario, r.wallSec.toFixed(2), r.speed.toFixed(1), r.baseline.toFixed(1), r.ratio.toFixed(3)])));
  step('rendering: recordings that end together, finalized by the task runner');
  const endedTogether = await endedTogetherBench(mediaSeconds);
  return { rows, endedTogether };
}

async function startup() {
  step('start-up: from the spawn to the first answer to a start');
  return startupBench({ tasks: Number(values['startup-tasks']), rounds });
}

async function client() {
  step('client: bundle size and sequential calls against raw fetch');
  const bundle = await clientBundleBytes();
  console.log(`bundle of the client with openapi-fetch: ${bundle.minified} B minified, ${bundle.gzipped} B gzipped`);
  const overhead = await clientOverhead();
  console.log(`raw fetch ${overhead.raw.toFixed(0)} calls/s, client ${overhead.client.toFixed(0)} calls/s (medians); median ratio of the rounds ${overhead.ratio.toFixed(3)}`);
  return { bundle, overhead };
}

async function drivers() {
  step(`SQLite drivers: the same server on node:sqlite and on better-sqlite3 ${betterSqlite3Version() ?? '(not installed)'}`);
  const result = await driverBench({ connections, seconds, rounds, tasks: Number(values['startup-tasks']) });
  console.log('');
  console.log(httpTable(result.rows));
  for (const [driver, ms] of Object.entries(result.startupMs)) console.log(`start-up with ${result.tasks.toLocaleString('en')} tasks on ${driver}: ${ms.toFixed(0)} ms`);
  return result;
}

async function fleet() {
  step('the fleet: an API node on PostgreSQL against the server on its SQLite file');
  // Ten times the tasks of the start bench: an RSS difference of a few MB is noise, of 70 MB it is not.
  const result = await fleetBench({ connections, seconds, rounds, recording: recording * 10 });
  console.log('');
  console.log(httpTable(result.rows));
  console.log(`an API node's memory per recording task: ${(result.memoryPerTask / 1024).toFixed(2)} KiB (${result.recording.toLocaleString('en')} recording)`);
  step(`the fleet: the same renders through one worker and through two (each pinned to a core of its own, one render slot), ${mediaSeconds} s of media each`);
  const workers = await workersBench({ mediaSeconds });
  console.log(`two workers finished ${workers.speedup.toFixed(2)}× as fast as one`);
  return { ...result, workers };
}

async function webhooks() {
  step('webhooks: starts on a server whose project has a webhook, its receivers in processes of their own');
  const result = await webhookBench({ connections, seconds, rounds });
  console.log('');
  console.log(httpTable(result.rows));
  console.log(`events delivered to the answering receiver: ${result.delivered.toLocaleString('en')}; ${result.eventsPerSec.toFixed(0)} a second over load and drain, the last ${result.drainSec.toFixed(2)} s after the load ended (medians)`);
  return result;
}

const started = performance.now();
const start = sections.includes('start') ? await startRequests() : undefined;
const boot = sections.includes('startup') ? await startup() : undefined;
const render = sections.includes('render') ? await rendering() : undefined;
const calls = sections.includes('client') ? await client() : undefined;
const driverRun = sections.includes('drivers') ? await drivers() : undefined;
const fleetRun = sections.includes('fleet') ? await fleet() : undefined;
const webhookRun = sections.includes('webhooks') ? await webhooks() : undefined;
console.log(`\nsummary (ratios to the same run's baselines; ${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
if (start) {
  for (const row of start.rows.slice(1)) console.log(`  ${row.scenario.padEnd(60)} ${row.ratio.toFixed(3)} of bare`);
  console.log(`  memory per recording task: ${(start.memory.perTask / 1024).toFixed(2)} KiB`);
}
if (boot) console.log(`  start-up to the first answer: ${boot.fullMs.toFixed(0)} ms with ${boot.tasks.toLocaleString('en')} tasks, ${boot.emptyMs.toFixed(0)} ms with none`);
if (render) {
  for (const row of render.rows) console.log(`  ${`render: ${row.scenario}`.padEnd(60)} ${row.ratio.toFixed(3)} of a plain encode, ${row.speed.toFixed(1)}× real time`);
  const ended = render.endedTogether;
  console.log(`  ${`render: ${ended.count} recordings ended together`.padEnd(60)} last done ${ended.sideBySideSec.toFixed(2)} s after the stop (${ended.oneAtATimeSec.toFixed(2)} s one at a time: ${ended.speedup.toFixed(2)}× with ${ended.slots} slots)`);
}
if (calls) {
  console.log(`  client calls / raw fetch:          ${calls.overhead.ratio.toFixed(3)}`);
  console.log(`  client bundle, gzipped:            ${calls.bundle.gzipped} B`);
}
if (driverRun) {
  for (const row of driverRun.rows.slice(1)) console.log(`  ${row.scenario.padEnd(60)} ${row.ratio.toFixed(3)} of bare`);
  for (const [driver, ms] of Object.entries(driverRun.startupMs)) console.log(`  ${`start-up, ${driverRun.tasks.toLocaleString('en')} tasks, ${driver}`.padEnd(60)} ${ms.toFixed(0)} ms`);
}

if (fleetRun) {
  for (const row of fleetRun.rows.slice(1)) console.log(`  ${row.scenario.padEnd(60)} ${row.ratio.toFixed(3)} of bare`);
  console.log(`  ${"an API node's memory per recording task".padEnd(60)} ${(fleetRun.memoryPerTask / 1024).toFixed(2)} KiB`);
  const [one, two] = fleetRun.workers.rounds;
  console.log(`  ${`renders: ${fleetRun.workers.count} tasks through one worker, then two`.padEnd(60)} ${one!.seconds.toFixed(2)} s, then ${two!.seconds.toFixed(2)} s: ${fleetRun.workers.speedup.toFixed(2)}× with two`);
}

if (webhookRun) {
  for (const row of webhookRun.rows.slice(1)) console.log(`  ${row.scenario.padEnd(60)} ${row.ratio.toFixed(3)} of bare`);
  console.log(`  ${'webhook events delivered a second (load and drain)'.padEnd(60)} ${webhookRun.eventsPerSec.toFixed(0)}`);
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
  http: start?.rows,
  memory: start?.memory,
  startup: boot,
  render: render?.rows,
  endedTogether: render?.endedTogether,
  client: calls,
  drivers: driverRun,
  fleet: fleetRun,
  webhooks: webhookRun,
};
const resultsDir = join(import.meta.dirname, '../bench/results');
mkdirSync(resultsDir, { recursive: true });
// A run of some sections only is kept apart, so it never replaces the whole run of the same commit.
const file = join(resultsDir, `${record.date.slice(0, 10)}-${record.commit}${values.only ? `-only-${sections.join('-')}` : ''}.json`);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
console.log(`\nwritten: ${file}`);
