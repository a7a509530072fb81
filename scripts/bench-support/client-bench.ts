// The client's size and overhead: the bundle a browser or edge app would ship (the client with
// openapi-fetch, minified, gzipped), and sequential calls through the client against the same
// calls with raw fetch, to the same bare server in its own process, rounds interleaved.
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { createClient } from '../../src/index.js';

const body = { app_id: 'bench-app', project_id: 'bench-proj', channel: 'bench-room', sign_key: 'bench-key' };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The client entry point bundled as a user's bundler would, openapi-fetch included. */
export async function clientBundleBytes(): Promise<{ minified: number; gzipped: number }> {
  const result = await build({ entryPoints: ['src/index.ts'], bundle: true, minify: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'error' });
  const code = result.outputFiles[0]!.contents;
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength };
}

async function bareServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [new URL('./bare-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.on('data', (chunk: Buffer) => resolve(/listening (\d+)/.exec(chunk.toString())![1]!)));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** Calls per second of `call`, made one after another. */
async function sequential(calls: number, call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return calls / ((performance.now() - started) / 1000);
}

/** Medians over interleaved rounds (which goes first alternates), and the median of each round's ratio. */
export async function clientOverhead({ calls = 1500, rounds = 9, warmup = 1000 } = {}) {
  const server = await bareServer();
  try {
    const client = createClient({ baseUrl: server.url });
    const raw = async () => {
      const response = await fetch(`${server.url}/v1/cloudRecord`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const data = (await response.json()) as { task_id: number };
      if (data.task_id !== 40) throw new Error('unexpected answer');
    };
    const typed = async () => {
      const result = await client.startRecording(body);
      if (!result.ok) throw new Error(`unexpected result ${result.kind}`);
    };
    await sequential(warmup, raw); // warm both paths up before measuring
    await sequential(warmup, typed);
    const measured = { raw: [] as number[], client: [] as number[], ratio: [] as number[] };
    for (let round = 1; round <= rounds; round++) {
      const [first, second] = round % 2 ? [raw, typed] : [typed, raw];
      const a = await sequential(calls, first);
      const b = await sequential(calls, second);
      const [r, c] = round % 2 ? [a, b] : [b, a];
      measured.raw.push(r);
      measured.client.push(c);
      measured.ratio.push(c / r);
      console.log(`  round ${round}/${rounds}: raw fetch ${r.toFixed(0)} calls/s, client ${c.toFixed(0)} calls/s, ratio ${(c / r).toFixed(3)}`);
    }
    return { raw: median(measured.raw), client: median(measured.client), ratio: median(measured.ratio) };
  } finally {
    server.stop();
  }
}
