// `cloudrec conformance` against servers written to break one rule each: the correct one conforms,
// each broken one fails, and the report names the rule it breaks. The command is run as users run
// it (the compiled bin, in its own process); the function as a user's own test suite would call it.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curlLine, formatJunit, runConformance, type ConformanceReport } from '../../src/conformance/index.js';
import { projectRoot } from '../support/prism.js';
import { fakeFixtures, fakeProject, startFakeServer, type Flaw } from './fake-server.js';

const run = promisify(execFile);
const bin = join(projectRoot, 'bin/cloudrec.js');
const projectFlags = ['--app-id', fakeProject.app_id, '--project-id', fakeProject.project_id, '--sign-key', fakeProject.sign_key, '--channel', fakeProject.channel];
const fixtureFlags = [
  '--recording-off-project', Object.values(fakeFixtures.recordingOff).join(','),
  '--no-storage-project', Object.values(fakeFixtures.noStorage).join(','),
  '--empty-channel', fakeFixtures.emptyChannel,
];

/** Runs the installed-style command; resolves with its exit code and output (it never rejects). */
async function cloudrec(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const failedIds = (report: ConformanceReport) => report.results.filter((r) => r.outcome === 'failed').map((r) => r.id);

const servers = new Map<Flaw, Awaited<ReturnType<typeof startFakeServer>>>();
beforeAll(async () => {
  for (const flaw of ['none', 'accepts-everything', 'wrong-error-shape', 'omits-task-id', 'new-task-on-repeat', 'malformed-json-500', 'ignores-exclusion', 'control-characters-in-ids', 'ignores-request-id', 'accepts-any-frame-rate'] as const) {
    servers.set(flaw, await startFakeServer(flaw));
  }
});
afterAll(async () => {
  for (const server of servers.values()) await server.close();
});
const url = (flaw: Flaw) => servers.get(flaw)!.baseUrl;

describe('cloudrec conformance', () => {
  test('a server that keeps every rule conforms: exit 0, every check passed, none skipped', async () => {
    const { code, stdout } = await cloudrec(['conformance', '--base-url', url('none'), ...projectFlags, ...fixtureFlags, '--seed', '1', '--runs', '40']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Conforms: \d+ passed, 0 failed, 0 skipped/m);
    expect(stdout).not.toMatch(/^(FAIL|SKIP) /m);
  });

  // Each flaw and the checks it must fail: exactly these, so a check that blames the wrong rule fails too.
  test.each([
    ['omits-task-id', ['credentials.success', 'credentials.identical-repeat', 'credentials.different-settings']],
    ['new-task-on-repeat', ['credentials.identical-repeat']],
    ['malformed-json-500', ['body.malformed-json', 'body.not-an-object', 'generated.not-a-request']],
    ['ignores-exclusion', ['audio-only-and-video-only', 'generated.one-rule-broken']],
    ['control-characters-in-ids', ['app_id.pattern', 'project_id.pattern', 'generated.one-rule-broken']],
    ['ignores-request-id', ['request-id.echoed']],
    ['accepts-any-frame-rate', ['mixResolution.frame-rate']],
  ] as const)('a server with the flaw %s fails exactly the checks of that rule', async (flaw, expected) => {
    const report = await runConformance({ baseUrl: url(flaw), credentials: fakeProject, fixtures: fakeFixtures, seed: 1, runs: 100 });
    expect(report.conforms).toBe(false);
    // A check that cannot run because an earlier one failed is listed as skipped, not passed.
    expect([...failedIds(report), ...report.results.filter((r) => r.outcome === 'skipped').map((r) => r.id)].sort()).toEqual([...expected].sort());
  });

  test('a server that accepts everything fails every rule of the request, the credentials and the preconditions', async () => {
    const report = await runConformance({ baseUrl: url('accepts-everything'), credentials: fakeProject, fixtures: fakeFixtures, seed: 1, runs: 40 });
    const failed = failedIds(report);
    for (const id of ['layout_mode.enum', 'mixResolution.odd-side', 'sign_key.required', 'unknown-field', 'audio-only-and-video-only', 'body.malformed-json', 'content-type.missing', 'credentials.unknown', 'credentials.different-settings', 'precondition.recording-off', 'precondition.empty-channel', 'generated.one-rule-broken']) {
      expect(failed).toContain(id);
    }
    const enumCheck = report.results.find((r) => r.id === 'layout_mode.enum')!;
    expect(enumCheck).toMatchObject({ expected: '400 invalid_parameter', got: '200 success', problems: ['answered status 200, not 400'] });
    expect(enumCheck.curl).toMatch(/^curl -sS -i -X POST '.*\/v1\/cloudRecord' -H 'Content-Type: application\/json' --data-raw '.*"layout_mode":3/);
  });

  test('a server with the wrong error shape fails every error check, naming the fields the spec wants', async () => {
    const report = await runConformance({ baseUrl: url('wrong-error-shape'), seed: 1, runs: 20 });
    const check = report.results.find((r) => r.id === 'credentials.unknown')!;
    expect(check.outcome).toBe('failed');
    expect(check.problems).toEqual(expect.arrayContaining(['code: is required', 'message: is required', 'error: is not a field of this request']));
    expect(report.results.filter((r) => r.group === 'request rules').every((r) => r.outcome === 'failed')).toBe(true);
  });

  test('each broken server makes the command exit 1 and name the failed rule, without printing the sign_key', async () => {
    for (const [flaw, rule] of [
      ['accepts-everything', 'audio-only-and-video-only'],
      ['wrong-error-shape', 'credentials.unknown'],
      ['omits-task-id', 'credentials.success'],
      ['malformed-json-500', 'body.malformed-json'],
      ['ignores-exclusion', 'audio-only-and-video-only'],
    ] as const) {
      const { code, stdout } = await cloudrec(['conformance', '--base-url', url(flaw), ...projectFlags, '--seed', '1', '--runs', '20']);
      expect(code, flaw).toBe(1);
      expect(stdout, flaw).toMatch(new RegExp(`^FAIL  ${rule.replaceAll('.', '\\.')} `, 'm'));
      expect(stdout, flaw).toMatch(/^Does not conform: /m);
      expect(stdout, flaw).not.toContain(fakeProject.sign_key);
    }
  });

  test('reports as JUnit XML and JSON for CI', async () => {
    const junit = await cloudrec(['conformance', '--base-url', url('malformed-json-500'), '--seed', '1', '--runs', '10', '--reporter', 'junit']);
    expect(junit.code).toBe(1);
    expect(junit.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="cloudrec conformance [^"]+" tests="\d+" failures="3" skipped="8"/);
    expect(junit.stdout.match(/<failure /g)).toHaveLength(3);
    const json = await cloudrec(['conformance', '--base-url', url('none'), '--seed', '1', '--runs', '10', '--reporter', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as ConformanceReport;
    expect(report).toMatchObject({ conforms: true, seed: 1, runs: 10, summary: { failed: 0, skipped: 8 } });
    expect(formatJunit(report)).toContain('<skipped message="needs --app-id, --project-id, --sign-key and --channel"/>');
  });

  test('a bad command line exits 2 with what to write', async () => {
    expect(await cloudrec(['conformance'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--base-url is required') });
    expect(await cloudrec(['conformance', '--base-url', 'localhost:8787'])).toMatchObject({ code: 2, stderr: expect.stringContaining('http:// or https://') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--app-id', 'a'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing: --project-id') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--reporter', 'tap'])).toMatchObject({ code: 2, stderr: expect.stringContaining('table, junit or json') });
  });

  test.each([
    ['a 429', { rateLimitFirst: true }, 429],
    ['a 503', { unavailableFirst: true }, 503],
  ] as const)('%s with Retry-After is waited out and sent again, not counted against the server', async (_what, option, status) => {
    const limited = await startFakeServer('none', option);
    const waits: [number, number][] = [];
    const report = await runConformance({ baseUrl: limited.baseUrl, seed: 1, runs: 5, onProgress: (e) => e.kind === 'wait' && waits.push([e.seconds, e.status]) });
    await limited.close();
    expect(waits).toEqual([[1, status]]);
    expect(report.summary).toMatchObject({ failed: 0, rateLimitWaits: 1 });
  });

  test('a server that cannot be reached: one message at once, exit 3, nothing else tried', async () => {
    const { createServer } = await import('node:net');
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const result = await cloudrec(['conformance', '--base-url', `http://127.0.0.1:${closed}`, '--seed', '1', '--runs', '5']);
    expect(result).toMatchObject({ code: 3, stdout: '' });
    expect(result.stderr.trim()).toBe(`cloudrec conformance: No answer from http://127.0.0.1:${closed}: ECONNREFUSED. Is the server running there?`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('--output into a folder that does not exist is refused before anything is sent (exit 2)', async () => {
    const result = await cloudrec(['conformance', '--base-url', 'http://127.0.0.1:9', '--output', '/nonexistent-folder/report.xml', '--reporter', 'junit']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('--output /nonexistent-folder/report.xml: the folder /nonexistent-folder does not exist.') });
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the curl line of a check', () => {
  // The line's --data-raw argument, as bash reads it, must be the body the check sent.
  const sentBy = (line: string) => execFileSync('bash', ['-c', line.replace(/^curl .* --data-raw /, 'printf %s ')], { encoding: 'utf8', maxBuffer: 1 << 20 });

  test.each([
    ['a body over the size limit, written short', JSON.stringify({ app_id: "it's", channel: 'a'.repeat(65_600) })],
    ['a body with quotes and a newline', JSON.stringify({ app_id: "o'brien", channel: 'x\ny' })],
  ])('%s, pastes into a shell as the very body sent', (_what, body) => {
    const line = curlLine('http://127.0.0.1:9/v1/cloudRecord', { contentType: 'application/json', body, headers: { 'X-Request-Id': 'r-1' } }, []);
    expect(line.length).toBeLessThan(400);
    expect(line).toContain(`-H 'X-Request-Id: r-1' -H 'Content-Type: application/json'`);
    expect(sentBy(line)).toBe(body);
  });
});
