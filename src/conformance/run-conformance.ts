// `runConformance`: checks any server of POST /v1/cloudRecord against the spec. Three groups of
// checks: the request rules (no credentials needed), what a real project and channel answer
// (with credentials, and optional fixtures for the other preconditions), and requests generated
// from the schema with fast-check (seeded, shrunk to the smallest request that shows a failure).
// Every answer is validated against the spec: a documented status, its headers, its content type,
// its body schema and the codes that status allows.
import fc from 'fast-check';
import { createClient } from '../client/create-client.js';
import type { SchemaStartRecordingRequest as StartRecordingRequest } from '../../generated/types.js';
import { requestProblems, responseProblems } from './exchange-check.js';
import { brokenBody, validBody } from './request-arbitraries.js';
import { requestRules, type ExpectedAnswer } from './request-rules.js';
import { createSender, type Exchange, type OutgoingRequest, type SenderOptions } from './sender.js';

/** A project's credentials. */
export interface ProjectCredentials {
  app_id: string;
  project_id: string;
  sign_key: string;
}

export interface ConformanceOptions extends Omit<SenderOptions, 'onWait'> {
  /** A project that is ready to record, and a channel with a user in it. */
  credentials?: ProjectCredentials & { channel: string };
  /** Projects and a channel for the other preconditions; each check runs only when given. */
  fixtures?: {
    /** A project whose recording is switched off. */
    recordingOff?: ProjectCredentials;
    /** A project with no object storage configured. */
    noStorage?: ProjectCredentials;
    /** A channel of the credentials' app with nobody in it. */
    emptyChannel?: string;
  };
  /** The seed of the generated requests (default: a random one, printed in the report). */
  seed?: number;
  /** Generated requests per property (default 100). */
  runs?: number;
  /** Called as the checks run: each result, and each wait for a 429's Retry-After. */
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent = { kind: 'result'; result: CheckResult; done: number; total: number } | { kind: 'wait'; seconds: number; status: number };

/** The server gave no answer at all to a first request: nothing else is sent. */
export class ServerUnreachableError extends Error {}

export type CheckGroup = 'request rules' | 'credentials' | 'preconditions' | 'client' | 'generated';

export interface CheckResult {
  id: string;
  group: CheckGroup;
  /** What the check sends, in words. */
  title: string;
  /** What the spec says the answer is. */
  expected: string;
  /** What the server answered: status and code; empty when skipped. */
  got: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** Why it failed (or was skipped), one line each. */
  problems: string[];
  /** The request that shows the result, as a curl command (the real sign_key left out). */
  curl?: string;
}

export interface ConformanceReport {
  baseUrl: string;
  seed: number;
  runs: number;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  summary: { passed: number; failed: number; skipped: number; requests: number; rateLimitWaits: number };
  conforms: boolean;
}

/** The request body, as a curl command line; a secret the user gave is replaced by a placeholder. */
export function curlLine(url: string, request: OutgoingRequest, secrets: string[] = []): string {
  let body = request.body;
  for (const secret of secrets) if (secret) body = body.replaceAll(JSON.stringify(secret).slice(1, -1), '<sign_key>');
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  // A long run of one character (the body over the size limit) is written as the shell command that
  // makes it, so the line stays short and can still be pasted.
  const run = /([ -~])\1{99,}/.exec(body);
  const shown = run
    ? `${quote(body.slice(0, run.index))}"$(head -c ${run[0].length} /dev/zero | tr '\\0' ${quote(run[1]!)})"${quote(body.slice(run.index + run[0].length))}`
    : quote(body);
  const headers = [...Object.entries(request.headers ?? {}), ...(request.contentType === undefined ? [] : [['Content-Type', request.contentType]])];
  const header = headers.map(([name, value]) => ` -H ${quote(`${name}: ${value}`)}`).join('');
  return `curl -sS -i -X ${request.method ?? 'POST'} ${quote(url)}${header} --data-raw ${shown}`;
}

/** The status and code of an answer, as the report shows them. */
function describeAnswer(exchange: Exchange): string {
  const code = (exchange.json as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return `${exchange.status} ${code}`;
  return `${exchange.status}${exchange.json === undefined ? ' (body not JSON)' : ''}`;
}

const describeExpected = (expected: ExpectedAnswer) => `${expected.status} ${expected.code}`;

/** What is wrong with an answer: its break of the spec, and its difference from the expected answer. */
async function answerProblems(exchange: Exchange, expected?: ExpectedAnswer): Promise<string[]> {
  const problems = await responseProblems('POST', '/v1/cloudRecord', exchange.response);
  if (!expected) return problems;
  const code = (exchange.json as { code?: unknown } | undefined)?.code;
  if (exchange.status !== expected.status) return [`answered status ${exchange.status}, not ${expected.status}`, ...problems];
  if (code !== expected.code) return [`answered code ${JSON.stringify(code)}, not ${expected.code}`, ...problems];
  return problems;
}

/** The checks that need a project's credentials: what each sends, and what the spec says of it. */
const projectChecks = {
  'client.request': { group: 'client', title: "the client's own request is valid for the spec", expected: 'no problem' },
  'credentials.success': { group: 'credentials', title: 'a valid request for a ready project and a channel with a user', expected: '200 success' },
  'credentials.identical-repeat': { group: 'credentials', title: 'the same request again: the same task_id', expected: '200 success' },
  'credentials.different-settings': { group: 'credentials', title: 'the same channel with other settings (is_mixing_enabled 1)', expected: '409 channel_already_recording' },
  'credentials.wrong-sign-key': { group: 'credentials', title: "the project's app_id and project_id with a wrong sign_key", expected: '401 invalid_credentials' },
} as const satisfies Record<string, { group: CheckGroup; title: string; expected: string }>;

/** A safe X-Request-Id of the caller's, which the spec says comes back in the answer. */
const callerRequestId = 'conformance-check.1:a_b-c';

/** A channel the request rules name when credentials are given: nobody is expected in it. */
const unusedChannel = 'conformance-rules-room';
const placeholder = { app_id: 'conformance-app', project_id: 'conformance-project', sign_key: 'conformance-key', channel: 'conformance-room' };

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const started = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const runs = options.runs ?? 100;
  const secrets = [options.credentials?.sign_key, options.fixtures?.recordingOff?.sign_key, options.fixtures?.noStorage?.sign_key].filter(
    (s): s is string => Boolean(s),
  );
  const sender = createSender({ ...options, onWait: (seconds, status) => options.onProgress?.({ kind: 'wait', seconds, status }) });
  // One request first: a server that cannot be reached is one message, not a failure per check.
  await sender.send({ contentType: 'application/json', body: '{}' }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ServerUnreachableError(`No answer from ${options.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}. Is the server running there?`);
  });
  const results: CheckResult[] = [];
  const credentials = options.credentials;
  // With credentials the request rules are sent as the real project, so their answers cannot depend
  // on the order in which a server checks the body and the credentials; and to a channel of their
  // own, so a server that wrongly accepts one starts no recording in the channel the checks use.
  const base: StartRecordingRequest = credentials ? { ...credentials, channel: unusedChannel } : placeholder;
  const rules = requestRules(base);
  // The rules, then unknown credentials, 1.0 and X-Request-Id; the project's checks; three preconditions; three generated.
  const total = rules.length + 3 + Object.keys(projectChecks).length + 3 + 3;

  const record = (result: CheckResult) => {
    results.push(result);
    options.onProgress?.({ kind: 'result', result, done: results.length, total });
  };
  const skip = (id: string, group: CheckGroup, title: string, expected: string, why: string) =>
    record({ id, group, title, expected, got: '', outcome: 'skipped', problems: [why] });
  /** Sends one request and records whether its answer is the expected one (and, when given, what else it must hold). */
  const check = async (id: string, group: CheckGroup, title: string, request: OutgoingRequest, expected: ExpectedAnswer, also?: (exchange: Exchange) => string[]) => {
    const exchange = await sendOrFail(request);
    if ('error' in exchange) {
      record({ id, group, title, expected: describeExpected(expected), got: 'no answer', outcome: 'failed', problems: [exchange.error], curl: curlLine(`${options.baseUrl}/v1/cloudRecord`, request, secrets) });
      return undefined;
    }
    const problems = await answerProblems(exchange, expected);
    if (!problems.length && also) problems.push(...also(exchange));
    record({ id, group, title, expected: describeExpected(expected), got: describeAnswer(exchange), outcome: problems.length ? 'failed' : 'passed', problems, curl: curlLine(exchange.url, request, secrets) });
    return problems.length ? undefined : exchange;
  };
  const sendOrFail = async (request: OutgoingRequest): Promise<Exchange | { error: string }> => {
    try {
      return await sender.send(request);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { error: `no answer: ${(error as Error).name === 'TimeoutError' ? 'timed out' : (cause ?? (error as Error).message)}` };
    }
  };
  const json = (body: object): OutgoingRequest => ({ contentType: 'application/json', body: JSON.stringify(body) });

  // --- the request rules: each broken alone, each answered with its documented status and code
  for (const rule of rules) await check(rule.id, 'request rules', rule.title, rule.request, rule.expected);
  const unknown = { ...base, ...placeholder, channel: base.channel };
  await check('credentials.unknown', 'request rules', 'a valid request from credentials no project has', json(unknown), { status: 401, code: 'invalid_credentials' });
  await check(
    'integer.written-1.0',
    'request rules',
    'an integer written 1.0 (the same JSON number as 1) is accepted',
    { contentType: 'application/json', body: JSON.stringify(unknown).replace(/}$/, ',"layout_mode":1.0}') },
    { status: 401, code: 'invalid_credentials' },
  );
  await check(
    'request-id.echoed',
    'request rules',
    `the caller's own X-Request-Id (${callerRequestId}) comes back in the answer`,
    { ...json(unknown), headers: { 'X-Request-Id': callerRequestId } },
    { status: 401, code: 'invalid_credentials' },
    (exchange) => {
      const echoed = exchange.response.headers.get('x-request-id');
      return echoed === callerRequestId ? [] : [`the answer's X-Request-Id is ${echoed === null ? 'missing' : JSON.stringify(echoed)}, not the request's ${callerRequestId}`];
    },
  );

  // --- a real project and channel
  if (credentials) {
    await clientChecks(credentials);
    await check('credentials.wrong-sign-key', 'credentials', projectChecks['credentials.wrong-sign-key'].title, json({ ...credentials, sign_key: `${credentials.sign_key}-wrong` }), { status: 401, code: 'invalid_credentials' });
  } else {
    for (const [id, { group, title, expected }] of Object.entries(projectChecks)) skip(id, group, title, expected, 'needs --app-id, --project-id, --sign-key and --channel');
  }
  const channel = credentials?.channel ?? placeholder.channel;
  const fixtures = options.fixtures ?? {};
  const precondition = async (id: string, title: string, body: StartRecordingRequest | undefined, expected: ExpectedAnswer, needs: string) =>
    body ? check(id, 'preconditions', title, json(body), expected) : skip(id, 'preconditions', title, describeExpected(expected), `needs ${needs}`);
  await precondition('precondition.recording-off', 'a project with recording switched off', fixtures.recordingOff && { ...fixtures.recordingOff, channel }, { status: 403, code: 'recording_not_enabled' }, '--recording-off-project');
  await precondition('precondition.no-storage', 'a project with no object storage', fixtures.noStorage && { ...fixtures.noStorage, channel }, { status: 409, code: 'storage_not_configured' }, '--no-storage-project');
  await precondition(
    'precondition.empty-channel',
    'a channel with nobody in it',
    credentials && fixtures.emptyChannel ? { ...credentials, channel: fixtures.emptyChannel } : undefined,
    { status: 409, code: 'channel_empty' },
    'the credentials and --empty-channel',
  );

  // --- generated requests
  await generated('generated.valid', credentials ? 'valid requests of the project, generated (any channel)' : 'valid requests, generated, from unknown credentials',
    credentials ? 'a documented answer, not 400, 413, 415 or 5xx' : '401 invalid_credentials',
    validBody.map((body) => json({ ...body, ...(credentials ? { app_id: credentials.app_id, project_id: credentials.project_id, sign_key: credentials.sign_key } : placeholder), channel: (body as { channel: string }).channel })),
    credentials ? undefined : { status: 401, code: 'invalid_credentials' },
    (status) => (credentials && (status === 400 || status === 413 || status === 415 || status >= 500) ? [`a valid request answered ${status}`] : []),
  );
  await generated('generated.one-rule-broken', 'requests that break one rule, generated', '400 invalid_parameter (audio_only_and_video_only for the exclusion)',
    brokenBody.map(({ rule, body }) => {
      // The project's own credentials in every field the broken rule is not about.
      const own = credentials ? Object.entries(credentials).filter(([field]) => field !== 'channel' && !rule.startsWith(`${field} `)) : [];
      return { ...json({ ...body, ...Object.fromEntries(own) }), rule };
    }),
    (request) => ({ status: 400, code: (request as { rule?: string }).rule === 'the not rule' ? 'audio_only_and_video_only' : 'invalid_parameter' }),
  );
  await generated('generated.not-a-request', 'random JSON and text, generated', '400 for JSON, 415 for other content types',
    fc.oneof(
      fc.json().map((body) => ({ contentType: 'application/json', body })),
      fc.tuple(fc.string(), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data')).map(([body, contentType]) => ({ contentType, body })),
    ),
    undefined,
    (status, request) => {
      const wanted = request.contentType === 'application/json' ? 400 : 415;
      return status === wanted ? [] : [`answered status ${status}, not ${wanted}`];
    },
  );

  /** Runs one property over generated requests; a failure is shrunk to its smallest request. */
  async function generated(
    id: string,
    title: string,
    expected: string,
    requests: fc.Arbitrary<OutgoingRequest>,
    want: ExpectedAnswer | ((request: OutgoingRequest) => ExpectedAnswer) | undefined,
    extra: (status: number, request: OutgoingRequest) => string[] = () => [],
  ) {
    let last: { exchange?: Exchange; problems: string[]; request: OutgoingRequest } | undefined;
    const problemsOf = async (request: OutgoingRequest) => {
      const exchange = await sendOrFail({ contentType: request.contentType, body: request.body });
      if ('error' in exchange) return { problems: [exchange.error], request };
      const answer = typeof want === 'function' ? want(request) : want;
      return { exchange, request, problems: [...(await answerProblems(exchange, answer)), ...extra(exchange.status, request)] };
    };
    const outcome = await fc.check(
      fc.asyncProperty(requests, async (request) => {
        last = await problemsOf(request);
        return last.problems.length === 0;
      }),
      { seed, numRuns: runs },
    );
    if (!outcome.failed || !outcome.counterexample) {
      record({ id, group: 'generated', title: `${title} (${outcome.numRuns} runs)`, expected, got: 'as expected', outcome: 'passed', problems: [] });
      return;
    }
    // The shrunk request, sent once more so the report shows its own answer.
    const smallest = await problemsOf(outcome.counterexample[0]);
    const shown = smallest.problems.length ? smallest : last!;
    record({
      id,
      group: 'generated',
      title: `${title} (failed after ${outcome.numRuns} runs, shrunk ${outcome.numShrinks} times; seed ${seed})`,
      expected,
      got: shown.exchange ? describeAnswer(shown.exchange) : 'no answer',
      outcome: 'failed',
      problems: shown.problems,
      curl: curlLine(`${options.baseUrl}/v1/cloudRecord`, shown.request, secrets),
    });
  }

  /** Success, identical repeat and different settings, the first sent by the client and its request checked too. */
  async function clientChecks(ids: ProjectCredentials & { channel: string }) {
    const sent: Request[] = [];
    let answered: Exchange | undefined;
    const client = createClient({
      baseUrl: options.baseUrl,
      maxRetries: 0,
      fetch: async (request) => {
        sent.push(request.clone());
        answered = await sender.send({ contentType: request.headers.get('content-type') ?? undefined, body: await request.text() });
        // The client reads its own copy; the answer is judged from the one kept here.
        return answered.response.clone();
      },
    });
    const body: StartRecordingRequest = { ...ids };
    // The client never throws: no answer is a result of its own kind.
    const result = await client.startRecording(body);
    const problems = sent[0] ? await requestProblems(sent[0]) : ['the client sent nothing'];
    record({ id: 'client.request', ...projectChecks['client.request'], got: problems.length ? 'problems' : 'valid', outcome: problems.length ? 'failed' : 'passed', problems });
    const curl = curlLine(`${options.baseUrl}/v1/cloudRecord`, json(body), secrets);
    if (!result.ok || !answered) {
      const got = result.kind === 'api' ? `${result.status} ${result.error.code}` : result.response ? `${result.status} (${result.kind})` : `no answer (${result.kind})`;
      const problems = answered ? await answerProblems(answered) : [];
      record({ id: 'credentials.success', ...projectChecks['credentials.success'], got, outcome: 'failed', problems: [`not a success: ${got}`, ...problems], curl });
      for (const id of ['credentials.identical-repeat', 'credentials.different-settings'] as const) {
        const { group, title, expected } = projectChecks[id];
        skip(id, group, title, expected, 'needs the success above');
      }
      return;
    }
    const problems200 = await answerProblems(answered);
    const taskId = result.data.task_id;
    record({ id: 'credentials.success', ...projectChecks['credentials.success'], got: `200 success, task_id ${taskId}`, outcome: problems200.length ? 'failed' : 'passed', problems: problems200, curl });
    await check('credentials.identical-repeat', 'credentials', projectChecks['credentials.identical-repeat'].title, json(body), { status: 200, code: 'success' }, (repeat) => {
      const repeatedId = (repeat.json as { task_id?: unknown }).task_id;
      return repeatedId === taskId ? [] : [`answered task_id ${String(repeatedId)}, not ${taskId}: a retry would start a second recording`];
    });
    await check('credentials.different-settings', 'credentials', projectChecks['credentials.different-settings'].title, json({ ...body, is_mixing_enabled: 1 }), { status: 409, code: 'channel_already_recording' });
  }

  const summary = {
    passed: results.filter((r) => r.outcome === 'passed').length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    skipped: results.filter((r) => r.outcome === 'skipped').length,
    requests: sender.counts.requests,
    rateLimitWaits: sender.counts.waits,
  };
  return { baseUrl: options.baseUrl, seed, runs, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, results, summary, conforms: summary.failed === 0 };
}
