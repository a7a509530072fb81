// The packages as their users get them: `npm run pack`'s tarballs installed into fresh projects
// (offline, from the npm cache; see consumer-project.ts), consumer code type-checked under each
// module resolution and run against the installed reference server, and the installed `cloudrec`
// command run.
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { pack } from '../../scripts/pack.js';
import { installedPackages, installTarballs, npmWarnings, packagesBuiltAtInstall, tarballManifest, type InstallOutput, type Manifest } from '../support/consumer-project.js';
import { freePort } from '../support/free-port.js';
import { projectRoot } from '../support/prism.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { startPrism } from '../support/prism.js';
import { startProcess, type RunningProcess } from '../support/process.js';
import { apiValidator } from '../../src/spec/api-document.js';

const run = promisify(execFile);
const tsc = join(projectRoot, 'node_modules/.bin/tsc');
const specVersion = (JSON.parse(readFileSync(join(projectRoot, 'generated/openapi.json'), 'utf8')) as { info: { version: string } }).info.version;

const work = mkdtempSync(join(tmpdir(), 'cloudrec-consumer-'));
const clientDir = join(work, 'client-project');
const serverDir = join(work, 'server-project');
let tarballs: { client: string; server: string };
const installs: Partial<Record<'client' | 'server', InstallOutput>> = {};
let server: RunningProcess;
let baseUrl: string;
let storageUrl: string;
let signKey: string;

/** Runs the installed `cloudrec` command in the server project; never rejects on a non-zero exit. */
async function cloudrec(...args: string[]) {
  try {
    const { stdout, stderr } = await run(join(serverDir, 'node_modules/.bin/cloudrec'), args, { cwd: serverDir, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  // The docs site built once for the run (test/support/docs-site.setup.ts), as the package ships it.
  const [client, serverTarball] = pack({ out: join(work, 'packages'), buildDocs: false, docsDir: inject('docsSite') });
  tarballs = { client: client!, server: serverTarball! };
  mkdirSync(clientDir);
  installs.client = installTarballs(clientDir, [tarballs.client]);
  mkdirSync(serverDir);
  installs.server = installTarballs(serverDir, [tarballs.server]);

  const [port, storagePort] = [await freePort(), await freePort()];
  server = await startProcess(
    join(serverDir, 'node_modules/.bin/cloudrec'),
    ['serve', '--port', String(port), '--demoStoragePort', String(storagePort), '--data-dir', join(work, 'data'), '--logLevel', 'warn'],
    { ready: /"sign_key":"[^"]+"/, cwd: serverDir },
  );
  baseUrl = `http://127.0.0.1:${port}`;
  storageUrl = `http://127.0.0.1:${storagePort}`;
  signKey = /"sign_key":"([^"]+)"/.exec(server.output())![1]!;
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The consumer program, in ESM or CommonJS form; the @ts-expect-error lines fail the build if the types are not found. */
function consumerSource(format: 'esm' | 'cjs') {
  const json = format === 'esm' ? `import spec from 'cloudrec/openapi.json' with { type: 'json' };` : `import spec from 'cloudrec/openapi.json';`;
  const body = `
  const client = createClient({ baseUrl: '${baseUrl}', timeoutMs: 10_000 });
  const request: StartRecordingRequest = { app_id: 'demo-app', project_id: 'demo-project', channel: 'demo-room', sign_key: '${signKey}' };
  // @ts-expect-error layout_mode 3 is not one of the spec's values
  const wrong: StartRecordingRequest = { ...request, layout_mode: 3 };
  const result: StartRecordingResult = await client.startRecording(request);
  const code: ErrorCode | undefined = result.kind === 'api' ? result.error.code : undefined;
  // A signed event, checked as a receiver checks it; the event's type narrows its data.
  const sent = JSON.stringify({ id: 'evt_0123456789abcdef', type: 'recording.failed', created_at: '2026-12-03T09:41:02.118Z', task_id: 41, app_id: 'a', project_id: 'p', channel: 'c', data: { reason: 'r' } });
  const verified = await verifyWebhook(sent, { 'cloudrec-signature': await signWebhook(sent, 'whsec_test') }, 'whsec_test');
  const event: WebhookEvent | undefined = verified.ok ? verified.event : undefined;
  const reason = event?.type === 'recording.failed' ? event.data.reason : undefined;
  console.log(JSON.stringify({
    webhook: reason,
    kind: result.kind,
    task_id: result.ok ? result.data.task_id : null,
    attempts: result.attempts,
    request_id: result.requestId,
    spec: spec.info.version,
    code,
    is_api_error: isApiError({ code: 'channel_empty', message: 'No user is in channel c.' }),
    retries: defaultRetry.maxRetries,
    wrong: wrong.layout_mode,
  }));`;
  const imports = `import { createClient, defaultRetry, isApiError, type StartRecordingResult } from 'cloudrec';
import type { ErrorCode, StartRecordingRequest } from 'cloudrec/types';
import { signWebhook, verifyWebhook, type WebhookEvent } from 'cloudrec/webhooks';
${json}`;
  return format === 'esm' ? `${imports}\n${body}\n` : `${imports}\nasync function main() {${body}\n}\nvoid main();\n`;
}

const consumers = [
  { name: 'ESM, nodenext resolution', type: 'module', format: 'esm', options: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
  { name: 'ESM, bundler resolution', type: 'module', format: 'esm', options: { module: 'ESNext', moduleResolution: 'Bundler' } },
  { name: 'CommonJS, nodenext resolution', type: 'commonjs', format: 'cjs', options: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
  { name: 'CommonJS, node10 resolution', type: 'commonjs', format: 'cjs', options: { module: 'CommonJS', moduleResolution: 'Node10', esModuleInterop: true } },
] as const;

describe('the cloudrec package, installed', () => {
  test('adds 3 packages (itself, openapi-fetch and its helpers), none built natively, none asking for more than Node 18', () => {
    const installed = installedPackages(clientDir);
    expect(installed.map((path) => path.split('node_modules/').at(-1)).sort()).toEqual(['cloudrec', 'openapi-fetch', 'openapi-typescript-helpers']);
    expect(packagesBuiltAtInstall(clientDir)).toEqual([]);
    for (const path of installed) {
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as Manifest;
      for (const node of ['18.0.0', '20.0.0', '22.0.0', '24.0.0']) {
        expect(semver.satisfies(node, manifest.engines?.node ?? '*'), `${manifest.name} on Node ${node}`).toBe(true);
      }
    }
  });

  test(`installs without a warning on Node ${process.versions.node}`, () => {
    expect(npmWarnings(installs.client!)).toEqual([]);
  });

  test('is public, versioned with the spec, and ships only what its exports name', () => {
    const manifest = tarballManifest(tarballs.client) as Manifest & { private?: boolean };
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toBe(specVersion);
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['openapi-fetch']);
    const files = execFileSync('tar', ['-tzf', tarballs.client], { encoding: 'utf8' }).trim().split('\n');
    // No server, pipeline or CLI code, and no TypeScript source (declarations only).
    expect(files.filter((f) => /\/(server|recording|storage|cli)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['package/CHANGELOG.md', 'package/README.md', 'package/openapi.json', 'package/openapi.yaml']));
  });

  test.each(consumers)('type-checks and runs consumer code: $name', async ({ name, type, format, options }) => {
    const dir = join(clientDir, name.replace(/\W+/g, '-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
    writeFileSync(join(dir, 'index.ts'), consumerSource(format));
    const compilerOptions = { ...options, target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true, resolveJsonModule: true, outDir: 'out', skipLibCheck: false };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    const compiled = await run(tsc, ['-p', dir]).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }));
    expect(compiled.stdout, `tsc in ${name}`).toBe('');
    writeFileSync(join(dir, 'out/package.json'), JSON.stringify({ type }));
    const { stdout } = await run('node', [join(dir, 'out/index.js')], { cwd: dir });
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ kind: 'success', attempts: 1, spec: specVersion, is_api_error: true, retries: 2, wrong: 3, webhook: 'r' });
    expect(printed.task_id).toEqual(expect.any(Number));
    expect(printed.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('require() and import give the same client, and the spec as JSON', async () => {
    const script = `
      const cjs = require('cloudrec');
      import('cloudrec').then((esm) => console.log(JSON.stringify({
        cjs: typeof cjs.createClient, esm: typeof esm.createClient, spec: require('cloudrec/openapi.json').info.version,
      })));`;
    const { stdout } = await run('node', ['-e', script], { cwd: clientDir });
    expect(JSON.parse(stdout)).toEqual({ cjs: 'function', esm: 'function', spec: specVersion });
  });
});

/** The ```ts blocks of a Markdown file. */
const typescriptBlocks = (file: string) => [...readFileSync(join(projectRoot, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('the samples of the docs and the READMEs, against the installed package', () => {
  const samples = join(projectRoot, 'openapi/code_samples');
  const snippets = [
    { name: 'the docs\' TypeScript sample', source: readFileSync(join(samples, 'TypeScript/v1_cloudRecord/post.ts'), 'utf8') },
    ...['README.md', 'src/client/README.md'].flatMap((file) => typescriptBlocks(file).map((source, i) => ({ name: `${file} snippet ${i + 1}`, source }))),
  ];
  let prism: Awaited<ReturnType<typeof startPrism>>;
  let capture: TestHttpServer;
  const dir = join(clientDir, 'samples');
  /** Compiles every snippet with its URLs pointed at `url`, in the ESM nodenext project; returns the outputs. */
  async function compileFor(url: string, out: string): Promise<string[]> {
    mkdirSync(join(dir, out), { recursive: true });
    const files = snippets.map((snippet, i) => {
      const file = join(out, `snippet-${i}.ts`);
      // Every snippet is a module of its own (so their names do not collide) pointed at the server under test.
      writeFileSync(join(dir, file), `${snippet.source.replaceAll(/http:\/\/127\.0\.0\.1:(8787|4010)/g, url)}\nexport {};\n`);
      return file;
    });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true, resolveJsonModule: true, rootDir: out, outDir: `${out}-js` };
    writeFileSync(join(dir, `tsconfig.${out}.json`), JSON.stringify({ compilerOptions, files }));
    const compiled = await run(tsc, ['-p', join(dir, `tsconfig.${out}.json`)]).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    expect(compiled.stdout).toBe('');
    return snippets.map((_, i) => join(dir, `${out}-js`, `snippet-${i}.js`));
  }

  beforeAll(async () => {
    prism = await startPrism();
    capture = await startHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":"success","task_id":40}'));
  }, 60_000);
  afterAll(async () => {
    await prism?.process.stop();
    await capture?.close();
  });

  test('every TypeScript snippet type-checks and runs against the mock without an error', async () => {
    const outputs = await compileFor(prism.baseUrl, 'mock');
    for (const [i, output] of outputs.entries()) {
      const ran = await run('node', [output], { cwd: dir }).catch((error: { stderr: string; code: number }) => error);
      expect('code' in ran ? ran.stderr : '', snippets[i]!.name).toBe('');
    }
  });

  test("the API docs' getting-started snippets (the client, a webhook receiver) type-check against the installed package, with Node's types", async () => {
    const description = (JSON.parse(readFileSync(join(projectRoot, 'generated/openapi.json'), 'utf8')) as { info: { description: string } }).info.description;
    const blocks = [...description.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.some((block) => block.includes("from 'cloudrec/webhooks'"))).toBe(true);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const files = blocks.map((block, i) => {
      writeFileSync(join(dir, `guide-${i}.ts`), `${block}\nexport {};\n`);
      return `guide-${i}.ts`;
    });
    // Type-checked, not run: the receiver listens until stopped. Node's types from the checkout, as a Node project has them.
    const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], typeRoots: [join(projectRoot, 'node_modules/@types')], types: ['node'], strict: true, noEmit: true };
    writeFileSync(join(dir, 'tsconfig.guide.json'), JSON.stringify({ compilerOptions, files }));
    const checked = await run(tsc, ['-p', join(dir, 'tsconfig.guide.json')]).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    expect(checked.stdout).toBe('');
  });

  test.each([
    { name: 'TypeScript client', file: 'TypeScript/v1_cloudRecord/post.ts', command: 'ts' },
    { name: 'fetch', file: 'JavaScript/v1_cloudRecord/post.js', command: 'node' },
    { name: 'curl', file: 'curl/v1_cloudRecord/post.sh', command: 'bash' },
  ])('the $name sample sends the request example it names, and the mock accepts it', async ({ file, command }) => {
    const source = readFileSync(join(samples, file), 'utf8');
    const named = /the `(\w+)` request example/.exec(source)?.[1];
    const pointer = `/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/examples/${named}`;
    const example = (apiValidator.resolve(pointer).value as { value?: object } | undefined)?.value;
    expect(example, `the example ${named}`).toBeDefined();
    for (const [target, check] of [[capture.url, 'body'], [prism.baseUrl, 'answer']] as const) {
      const runnable = source.replaceAll('https://recording.example.com', target);
      const before = capture.requests.length;
      let stdout: string;
      if (command === 'ts') {
        writeFileSync(join(dir, 'sample.ts'), `${runnable}\nexport {};\n`);
        const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true, outDir: 'sample-js' };
        writeFileSync(join(dir, 'tsconfig.sample.json'), JSON.stringify({ compilerOptions, files: ['sample.ts'] }));
        await run(tsc, ['-p', join(dir, 'tsconfig.sample.json')]);
        ({ stdout } = await run('node', [join(dir, 'sample-js/sample.js')], { cwd: dir }));
      } else if (command === 'node') {
        writeFileSync(join(dir, 'sample.mjs'), runnable);
        ({ stdout } = await run('node', [join(dir, 'sample.mjs')], { cwd: dir }));
      } else {
        ({ stdout } = await run('bash', ['-c', runnable]));
      }
      if (check === 'body') expect(JSON.parse(capture.requests[before]!.body)).toEqual(example);
      else expect(stdout).toMatch(/recording task 40|"task_id":40/);
    }
  });
});

describe('the cloudrec-server package, installed', () => {
  test(`installs without a warning and without building anything on Node ${process.versions.node}`, () => {
    expect(npmWarnings(installs.server!)).toEqual([]);
    expect(packagesBuiltAtInstall(serverDir)).toEqual([]);
  });

  test.each(['cloudrec', 'cloudrec-server'])('%s: its README and CHANGELOG link only to what the package holds, and speak of no "source page"', (name) => {
    const installed = join(name === 'cloudrec' ? clientDir : serverDir, 'node_modules', name);
    for (const file of ['README.md', 'CHANGELOG.md']) {
      const text = readFileSync(join(installed, file), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
      expect(targets.filter((target) => !existsSync(join(installed, target))), `${name}/${file}`).toEqual([]);
      expect(text, `${name}/${file}`).not.toMatch(/source page/i);
    }
  });

  test('brings no development tool', () => {
    for (const tool of ['tsx', 'typescript', 'vitest', '@redocly/cli', '@stoplight/prism-cli']) {
      expect(existsSync(join(serverDir, 'node_modules', tool)), tool).toBe(false);
    }
  });

  test('cloudrec --version and --help', async () => {
    expect(await cloudrec('--version')).toMatchObject({ code: 0, stdout: `cloudrec ${specVersion}\n` });
    const help = await cloudrec('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^  serve /m);
  });

  test('cloudrec serve answers the API, its health, readiness and metrics, serves the specs and the docs it ships', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/openapi.yaml', '/sandbox/openapi.json', '/operations/openapi.json', '/docs/', '/docs/zh/index.html', '/docs/api/en/', '/docs/api/zh/', '/docs/client/']) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('cloudrec start and status talk to the installed server', async () => {
    const ids = ['--app-id', 'demo-app', '--project_id', 'demo-project', '--channel', 'demo-room', '--sign_key', signKey];
    const started = await cloudrec('start', ...ids, '--url', baseUrl);
    expect(started.code).toBe(0);
    const taskId = /Recording task (\d+) started/.exec(started.stdout)?.[1];
    expect(taskId).toBeDefined();
    const status = await cloudrec('status', taskId!, '--url', baseUrl);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^Task ${taskId}: `));
  });

  test('cloudrec conformance checks the installed server, and cloudrec-server/conformance runs the same checks from a script', async () => {
    const ids = ['--app-id', 'demo-app', '--project-id', 'demo-project', '--channel', 'demo-room', `--sign-key=${signKey}`];
    const checked = await cloudrec('conformance', '--base-url', baseUrl, ...ids, '--seed', '1', '--runs', '20');
    expect(checked.code, `${checked.stdout}${checked.stderr}`).toBe(0);
    expect(checked.stdout).toMatch(/^Conforms: \d+ passed, 0 failed, 3 skipped/m);
    expect(checked.stdout).not.toContain(signKey);
    const script = `import { runConformance, summaryLine } from 'cloudrec-server/conformance';
const report = await runConformance({ baseUrl: '${baseUrl}', seed: 2, runs: 10 });
console.log(summaryLine(report));`;
    writeFileSync(join(serverDir, 'conformance.mjs'), script);
    const { stdout } = await run('node', [join(serverDir, 'conformance.mjs')], { cwd: serverDir });
    expect(stdout).toMatch(/^Conforms: \d+ passed, 0 failed, 10 skipped/);
  });

  test("a recording's events reach a receiver that checks them with the installed cloudrec/webhooks: the objects they name are in the bucket, a refused upload is recording.failed", async () => {
    // The receiver checks with the package a user installs, not with the checkout's source.
    const { verifyWebhook } = createRequire(join(clientDir, 'receiver.js'))('cloudrec/webhooks') as typeof import('../../src/webhooks.js');
    const verified: { type: string; data: Record<string, unknown>; task_id: number }[] = [];
    const secrets: string[] = [];
    const receiver = await startHttpServer((req, res) => {
      void verifyWebhook(req.body, req.headers, secrets).then((result) => {
        if (result.ok) verified.push(result.event);
        res.writeHead(result.ok ? 204 : 400).end();
      });
    });
    const json = (method: string, path: string, body: unknown) => fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    /** Gives the project a webhook to the receiver, records `channel` for a moment, stops it; resolves with its events. */
    const recordWithWebhook = async (projectId: string, key: string, channel: string) => {
      secrets.push(((await (await json('PUT', `/sandbox/projects/demo-app/${projectId}/webhook`, { url: receiver.url })).json()) as { secret: string }).secret);
      await json('PUT', `/sandbox/apps/demo-app/channels/${channel}/users/5`, {});
      const started = await cloudrec('start', '--app-id', 'demo-app', '--project-id', projectId, '--channel', channel, '--sign-key', key, '--url', baseUrl);
      const taskId = Number(/Recording task (\d+) started/.exec(started.stdout)?.[1]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await fetch(`${baseUrl}/sandbox/tasks/${taskId}/stop`, { method: 'POST' });
      for (let waited = 0; verified.filter((e) => e.task_id === taskId).length < 2 && waited < 60_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      return verified.filter((e) => e.task_id === taskId);
    };
    try {
      const events = await recordWithWebhook('demo-project', signKey, 'hooks-room');
      expect(events.map((e) => e.type)).toEqual(['recording.started', 'recording.completed']);
      const files = events[1]!.data.files as { object_key: string; bytes: number }[];
      const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
      const s3 = new S3Client({ endpoint: storageUrl, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      for (const file of files) expect((await s3.send(new HeadObjectCommand({ Bucket: 'recordings', Key: file.object_key }))).ContentLength).toBe(file.bytes);

      // A project whose bucket the store does not have.
      const storage = { endpoint: storageUrl, bucket: 'no-such-bucket', access_key_id: 'S3RVER', secret_access_key: 'S3RVER' };
      await json('PUT', '/sandbox/projects/demo-app/unbucketed', { sign_key: 'unbucketed-key', storage });
      const failed = await recordWithWebhook('unbucketed', 'unbucketed-key', 'unbucketed-room');
      expect(failed.map((e) => e.type)).toEqual(['recording.started', 'recording.failed']);
      expect(failed[1]!.data.reason).toContain('no-such-bucket');
    } finally {
      await receiver.close();
    }
  }, 120_000);

  test('cloudrec mock says how to add Prism, which it does not install', async () => {
    const { code, stderr } = await cloudrec('mock');
    expect(code).toBe(2);
    expect(stderr).toContain('npm install --save-dev @stoplight/prism-cli@5.14.2');
  });
});
