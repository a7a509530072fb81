// `cloudrec conformance` against servers written to break one rule each: the correct one conforms,
// each broken one fails, and the report names the rule it breaks. The command is run as users run
// it (the compiled bin, in its own process); the function as a user's own test suite would call it.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curlLine, formatJunit, responseProblems, runConformance, type ConformanceReport } from '../../src/conformance/index.js';
import { projectRoot } from '../support/prism.js';
import { fakeFixtures, fakeProject, fakeRateLimit, startFakeServer, type Flaw } from './fake-server.js';

const run = promisify(execFile);
const bin = join(projectRoot, 'bin/cloudrec.js');
const projectFlags = ['--app-id', fakeProject.app_id, '--project-id', fakeProject.project_id, '--sign-key', fakeProject.sign_key, '--channel', fakeProject.channel, '--rate-limit', String(fakeRateLimit)];
const withProject = { credentials: fakeProject, fixtures: fakeFixtures, rateLimitPerSec: fakeRateLimit };
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
  for (const flaw of [
    'none', 'accepts-everything', 'wrong-error-shape', 'omits-task-id', 'new-task-on-repeat', 'malformed-json-500', 'ignores-exclusion', 'control-characters-in-ids',
    'ignores-request-id', 'accepts-any-frame-rate', 'no-request-id-header', 'accepts-any-credentials', 'no-rate-limit', 'counts-identical-repeats',
    'rate-limit-without-retry-after', 'not-found-as-text',
  ] as const) {
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
    ['omits-task-id', ['credentials.success', 'credentials.identical-repeat', 'credentials.different-settings', 'rate-limit.burst', 'rate-limit.identical-repeat-free']],
    ['new-task-on-repeat', ['credentials.identical-repeat']],
    ['malformed-json-500', ['body.malformed-json', 'body.not-an-object', 'generated.not-a-request']],
    ['ignores-exclusion', ['audio-only-and-video-only', 'generated.one-rule-broken']],
    ['control-characters-in-ids', ['app_id.pattern', 'project_id.pattern', 'generated.one-rule-broken']],
    ['ignores-request-id', ['request-id.echoed']],
    ['accepts-any-frame-rate', ['mixResolution.frame-rate']],
    // Judged on their own rules only: 1.0 and the X-Request-Id do not fail for want of a credential check.
    ['accepts-any-credentials', ['credentials.unknown', 'credentials.wrong-sign-key']],
    ['no-rate-limit', ['rate-limit.burst', 'rate-limit.identical-repeat-free']],
    ['counts-identical-repeats', ['rate-limit.identical-repeat-free']],
    ['not-found-as-text', ['not-found.path', 'not-found.method']],
  ] as const)('a server with the flaw %s fails exactly the checks of that rule', async (flaw, expected) => {
    const report = await runConformance({ baseUrl: url(flaw), ...withProject, seed: 1, runs: 100 });
    expect(report.conforms).toBe(false);
    // A check that cannot run because an earlier one failed is listed as skipped, not passed.
    expect([...failedIds(report), ...report.results.filter((r) => r.outcome === 'skipped').map((r) => r.id)].sort()).toEqual([...expected].sort());
  });

  test('a 429 without Retry-After is a failure wherever it is met, named as such, the burst among them', async () => {
    const report = await runConformance({ baseUrl: url('rate-limit-without-retry-after'), ...withProject, seed: 1, runs: 100 });
    expect(failedIds(report)).toContain('rate-limit.burst');
    for (const result of report.results.filter((r) => r.outcome === 'failed')) expect(result.problems, result.id).toContain('required header Retry-After is missing');
  });

  test('the report of a server missing one header on every answer is that one cause, on one screen', async () => {
    const { code, stdout } = await cloudrec(['conformance', '--base-url', url('no-request-id-header'), ...projectFlags, ...fixtureFlags, '--seed', '1', '--runs', '40']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ {2}1\. required header X-Request-Id is missing: every answer, \d+ checks$/m);
    expect(stdout).not.toMatch(/^ {2}2\. /m);
    expect(stdout).not.toMatch(/^(PASS|FAIL) /m);
    expect(stdout.split('\n').length).toBeLessThanOrEqual(24);
    // Everything is still there for CI: each check, passed ones included, in the JSON report.
    const json = await cloudrec(['conformance', '--base-url', url('no-request-id-header'), ...projectFlags, '--seed', '1', '--runs', '10', '--reporter', 'json']);
    const report = JSON.parse(json.stdout) as ConformanceReport;
    expect(report.results.filter((r) => r.outcome === 'failed').length).toBeGreaterThan(60);
  });

  test('--verbose lists every check, passed ones too', async () => {
    const { stdout } = await cloudrec(['conformance', '--base-url', url('none'), '--seed', '1', '--runs', '5', '--verbose']);
    expect(stdout).toMatch(/^PASS  layout_mode\.enum /m);
    expect(stdout).toMatch(/^PASS  not-found\.method /m);
  });

  test('a server that accepts everything fails every rule of the request, the credentials and the preconditions', async () => {
    const report = await runConformance({ baseUrl: url('accepts-everything'), ...withProject, seed: 1, runs: 40 });
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
    // Every check whose answer is an error of the start operation (its 404s are answered apart).
    const errorChecks = report.results.filter((r) => r.group === 'request rules' && !r.id.startsWith('not-found.'));
    expect(errorChecks.filter((r) => r.outcome !== 'failed').map((r) => r.id)).toEqual([]);
  });

  test('each broken server makes the command exit 1 and name the failed rule, without printing the sign_key', async () => {
    for (const [flaw, rule] of [
      ['accepts-everything', 'app_id.type'],
      ['no-rate-limit', 'rate-limit.burst'],
      ['wrong-error-shape', 'credentials.unknown'],
      ['omits-task-id', 'credentials.success'],
      ['malformed-json-500', 'body.malformed-json'],
      ['ignores-exclusion', 'audio-only-and-video-only'],
    ] as const) {
      const { code, stdout } = await cloudrec(['conformance', '--base-url', url(flaw), ...projectFlags, '--seed', '1', '--runs', '20']);
      expect(code, flaw).toBe(1);
      // On its own FAIL line, or in the list of checks that share a cause.
      expect(stdout, flaw).toMatch(new RegExp(`(^FAIL  |^ {6}(.*, )?)${rule.replaceAll('.', '\\.')}( |,|$)`, 'm'));
      expect(stdout, flaw).toMatch(/^Does not conform: /m);
      expect(stdout, flaw).not.toContain(fakeProject.sign_key);
    }
  });

  test('reports as JUnit XML and JSON for CI', async () => {
    const junit = await cloudrec(['conformance', '--base-url', url('malformed-json-500'), '--seed', '1', '--runs', '10', '--reporter', 'junit']);
    expect(junit.code).toBe(1);
    expect(junit.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="cloudrec conformance [^"]+" tests="\d+" failures="3" skipped="10"/);
    expect(junit.stdout.match(/<failure /g)).toHaveLength(3);
    const json = await cloudrec(['conformance', '--base-url', url('none'), '--seed', '1', '--runs', '10', '--reporter', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as ConformanceReport;
    expect(report).toMatchObject({ conforms: true, seed: 1, runs: 10, summary: { failed: 0, skipped: 10 } });
    expect(formatJunit(report)).toContain('<skipped message="needs --app-id, --project-id, --sign-key and --channel"/>');
  });

  test('a bad command line exits 2 with what to write', async () => {
    expect(await cloudrec(['conformance'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--base-url is required') });
    expect(await cloudrec(['conformance', '--base-url', 'localhost:8787'])).toMatchObject({ code: 2, stderr: expect.stringContaining('http:// or https://') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--app-id', 'a'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing: --project-id') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--reporter', 'tap'])).toMatchObject({ code: 2, stderr: expect.stringContaining('table, junit or json') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--profile', 'prism'])).toMatchObject({ code: 2, stderr: expect.stringContaining('server or mock') });
    expect(await cloudrec(['conformance', '--base-url', url('none'), '--rate-limit', '0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--rate-limit must be 1 or more') });
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

test('on a terminal that reports no width, the progress line shows each check id whole', async () => {
  // `script` gives the command a terminal of width 0, as some CI consoles do.
  const line = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} conformance --base-url ${url('none')} --seed 1 --runs 2 > /dev/null`;
  const { stdout } = await run('script', ['-qec', line, '/dev/null'], { encoding: 'utf8' });
  expect(stdout).toContain('ok   app_id.type\r');
  expect(stdout).toContain('ok   layout_mode.enum\r');
});

test('a header that breaks its schema is named as a header, with its value', async () => {
  const response = new Response('{"code":"success","task_id":1}', { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'not ok!' } });
  const [problem] = await responseProblems('POST', '/v1/cloudRecord', response);
  expect(problem).toMatch(/^header X-Request-Id is "not ok!": it must match pattern/);
  expect(problem).not.toContain('(body)');
});

describe('the curl line of a check', () => {
  test('a short sign_key is hidden in its field only, not wherever its letters occur', () => {
    const body = JSON.stringify({ app_id: 'k-app', project_id: 'kp', sign_key: 'k', channel: 'kk' });
    const line = curlLine('http://127.0.0.1:9/v1/cloudRecord', { contentType: 'application/json', body }, ['k']);
    expect(line).toContain(`'{"app_id":"k-app","project_id":"kp","sign_key":"<sign_key>","channel":"kk"}'`);
    const wrong = curlLine('http://127.0.0.1:9/v1/cloudRecord', { contentType: 'application/json', body: JSON.stringify({ sign_key: 'secret-wrong' }) }, ['secret']);
    expect(wrong).toContain('"sign_key":"<sign_key>-wrong"');
  });

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
