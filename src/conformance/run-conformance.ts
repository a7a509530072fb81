// `runConformance`: checks any server of POST /v1/cloudRecord against the spec. Three groups of
// checks: the request rules (no credentials needed), what a real project and channel answer
// (with credentials, and optional fixtures for the other preconditions), and requests generated
// from the schema with fast-check (seeded, shrunk to the smallest request that shows a failure).
// Every answer is validated against the spec: a documented status, its headers, its content type,
// its body schema and the codes that status allows.
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createClient } from '../client/create-client.js';
import type { SchemaStartRecordingRequest as StartRecordingRequest } from '../../generated/types.js';
import { apiValidator, startRateLimitPerSec } from '../spec/api-document.js';
import { describeErrors } from '../spec/schema-validator.js';
import { documentedFailures, requestProblems, responseProblems } from './exchange-check.js';
import { brokenBody, validBody, validateRequest } from './request-arbitraries.js';
import { requestRules, type ExpectedAnswer, type RequestRule } from './request-rules.js';
import { createSender, type Exchange, type OutgoingRequest, type SendOptions, type SenderOptions } from './sender.js';

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
  /**
   * `server` (default): every check. `mock`: only what a stateless mock of the spec can honour
   * (the schema's rules, by status; answers in the spec's shapes); the rest is listed as not checked.
   */
  profile?: 'server' | 'mock';
  /** The server's start requests a second for one app_id (default: the spec's `x-rateLimitPerSec`). */
  rateLimitPerSec?: number;
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

/** What a run did not check, and why. */
export interface NotChecked {
  /** A check's id, or the documented answer no check provokes (`408 request_timeout`). */
  id: string;
  why: string;
}

export interface ConformanceReport {
  baseUrl: string;
  profile: 'server' | 'mock';
  seed: number;
  runs: number;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  notChecked: NotChecked[];
  summary: { passed: number; failed: number; skipped: number; requests: number; rateLimitWaits: number };
  conforms: boolean;
}

/** The request as a curl command line; a secret the user gave is replaced by a placeholder in `sign_key`'s value. */
export function curlLine(url: string, request: OutgoingRequest, secrets: string[] = []): string {
  const hidden = secrets.filter(Boolean).map((secret) => JSON.stringify(secret).slice(1, -1)).sort((a, b) => b.length - a.length);
  // Only inside sign_key's value: a short key ("k") would otherwise be found all over the body.
  const body = hidden.length
    ? request.body.replace(/("sign_key"\s*:\s*")((?:[^"\\]|\\.)*)"/g, (_all, head: string, value: string) => {
        let shown = value;
        for (const secret of hidden) shown = shown.split(secret).join('\u0000');
        return `${head}${shown.replaceAll('\u0000', '<sign_key>')}"`;
      })
    : request.body;
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  // A long run of one character (the body over the size limit) is written as the shell command that
  // makes it, so the line stays short and can still be pasted.
  const run = /([ -~])\1{99,}/.exec(body);
  const shown = run
    ? `${quote(body.slice(0, run.index))}"$(head -c ${run[0].length} /dev/zero | tr '\\0' ${quote(run[1]!)})"${quote(body.slice(run.index + run[0].length))}`
    : quote(body);
  const headers = [...Object.entries(request.headers ?? {}), ...(request.contentType === undefined ? [] : [['Content-Type', request.contentType]])];
  const header = headers.map(([name, value]) => ` -H ${quote(`${name}: ${value}`)}`).join('');
  const data = request.method === 'GET' ? '' : ` --data-raw ${shown}`;
  return `curl -sS -i -X ${request.method ?? 'POST'} ${quote(url)}${header}${data}`;
}

const codeOf = (exchange: Exchange) => {
  const code = (exchange.json as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The status and code of an answer, as the report shows them. */
function describeAnswer(exchange: Exchange): string {
  const code = codeOf(exchange);
  if (code !== undefined) return `${exchange.status} ${code}`;
  return `${exchange.status} ${exchange.json === undefined ? '(body not JSON)' : '(no code)'}`;
}

/**
 * What a check wants: a status and code (`statusOnly` in the mock profile, where any code the status
 * allows will do), or any documented answer but the `refused` statuses, described in words.
 */
type Wanted = ExpectedAnswer | { text: string; refused: number[] };

const describeWanted = (wanted: Wanted) => ('text' in wanted ? wanted.text : `${wanted.status} ${wanted.code}`);

/** Why a try-later answer (429, 503) was not waited out: no Retry-After, or one longer than this run waits. */
function notWaitedOut(exchange: Exchange, maxWaitSec: number): string {
  if (exchange.status !== 429 && exchange.status !== 503) return '';
  const retryAfter = exchange.response.headers.get('retry-after');
  if (retryAfter === null) return ', without the Retry-After header the spec requires (so it could not be waited out)';
  if (Number(retryAfter) > maxWaitSec) return `, with Retry-After ${retryAfter}, longer than the ${maxWaitSec} s this run waits`;
  return '';
}

/** Why each documented answer no check provokes is left out. */
const unprovokable: Record<string, string> = {
  request_timeout: "it needs a request held open for the server's whole request timeout",
  headers_too_large: "the size of headers that is too large is the server's own setting",
  malformed_request: 'fetch cannot send a request that is not HTTP',
  internal_error: 'a fault of the server cannot be provoked on purpose (a 500 met is judged by its shape)',
  service_unavailable: 'the server cannot be made unavailable from outside (a 503 met is waited out like a 429)',
};

/** The checks that need a project's credentials: what each sends, and what the spec says of it. */
const projectChecks = {
  'client.request': { group: 'client', title: "the client's own request is valid for the spec", expected: 'no problem' },
  'credentials.success': { group: 'credentials', title: 'a valid request for a ready project and a channel with a user', expected: '200 success' },
  'credentials.identical-repeat': { group: 'credentials', title: 'the same request again: the same task_id', expected: '200 success' },
  'credentials.different-settings': { group: 'credentials', title: 'the same channel with other settings (is_mixing_enabled 1)', expected: '409 channel_already_recording' },
  'credentials.wrong-sign-key': { group: 'credentials', title: "the project's app_id and project_id with a wrong sign_key", expected: '401 invalid_credentials' },
  'rate-limit.burst': { group: 'credentials', title: 'more start requests of the app in one second than its rate limit', expected: '429 rate_limited with Retry-After' },
  'rate-limit.identical-repeat-free': { group: 'credentials', title: "an identical repeat while the app's rate limit is spent: not counted", expected: '200 success' },
} as const satisfies Record<string, { group: CheckGroup; title: string; expected: string }>;
type ProjectCheckId = keyof typeof projectChecks;

/** Why the mock profile leaves a check out, by the check's id (a prefix ends in '.'). */
const beyondAMock: [prefix: string, why: string][] = [
  ['mixResolution.', "the numeric limits of mixResolution are beyond its schema's pattern"],
  ['body.malformed-json', "a body that is not JSON is answered before any schema applies, in the mock's own way"],
  ['body.too-large', 'the body size limit is not a schema rule'],
  ['content-type.missing', 'a body without Content-Type is not a schema rule'],
  ['credentials.', 'a stateless mock knows no projects and keeps no tasks'],
  ['rate-limit.', 'a stateless mock keeps no rate limit'],
  ['precondition.', 'a stateless mock knows no projects or channels'],
  ['request-id.echoed', "a mock answers with its example's headers"],
  ['not-found.', "a mock answers paths outside the spec in its own way"],
];
/** The checks the mock profile does run though their ids look like the ones above. */
const mockRuns = new Set(['credentials.success']);
const mockLeavesOut = (id: string) => (mockRuns.has(id) ? undefined : beyondAMock.find(([prefix]) => id === prefix || (prefix.endsWith('.') && id.startsWith(prefix)))?.[1]);

/**
 * Why the mock profile leaves a request rule out, or undefined when a mock of the spec can honour it:
 * a JSON body the request's schema refuses (400), or a content type the operation does not declare (415).
 */
function ruleBeyondAMock(rule: RequestRule): string | undefined {
  const { contentType, body } = rule.request;
  if (rule.expected.status === 415 && contentType !== undefined) return undefined;
  if (rule.expected.status === 400 && contentType === 'application/json') {
    try {
      if (!validateRequest(JSON.parse(body))) return undefined;
    } catch {
      // not JSON: below
    }
  }
  return mockLeavesOut(rule.id) ?? 'not a rule of the request\'s schema';
}

/** A safe X-Request-Id of the caller's, which the spec says comes back in the answer. */
const callerRequestId = 'conformance-check.1:a_b-c';

/** A channel the request rules name when credentials are given: nobody is expected in it. */
const unusedChannel = 'conformance-rules-room';
const placeholder = { app_id: 'conformance-app', project_id: 'conformance-project', sign_key: 'conformance-key', channel: 'conformance-room' };
/** The largest rate limit the burst check crosses (twice the limit and one, sent at once). */
const largestBurstLimit = 200;
const validateError = apiValidator.schemaAt('/components/schemas/Error');
const validateRequestId = apiValidator.schemaAt('/components/headers/RequestId/schema');

export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const started = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const runs = options.runs ?? 100;
  const profile = options.profile ?? 'server';
  const mock = profile === 'mock';
  const maxWaitSec = options.maxWaitSec ?? 120;
  const rateLimit = options.rateLimitPerSec ?? startRateLimitPerSec;
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
  const notChecked: NotChecked[] = [];
  // The documented answers the checks ask for: error codes (in the mock profile, statuses).
  const provoked = new Set<string>(['rate_limited', 'not_found']);
  // A mock accepts any credentials: its success is checked with placeholders when none are given.
  const credentials = options.credentials ?? (mock ? placeholder : undefined);
  // With credentials the request rules are sent as the real project, so their answers cannot depend
  // on the order in which a server checks the body and the credentials; and to a channel of their
  // own, so a server that wrongly accepts one starts no recording in the channel the checks use.
  const base: StartRecordingRequest = credentials ? { ...credentials, channel: unusedChannel } : placeholder;
  const rules = requestRules(base);
  // The rules; unknown credentials, 1.0, X-Request-Id; two 404s; the project's checks; three preconditions; three generated.
  const total = rules.length + 3 + 2 + Object.keys(projectChecks).length + 3 + 3;
  let seen = 0;

  const record = (result: CheckResult) => {
    seen += 1;
    results.push(result);
    options.onProgress?.({ kind: 'result', result, done: seen, total });
  };
  /** Whether the profile runs the check; if not, it is listed as not checked. */
  const runs_ = (id: string, rule?: RequestRule) => {
    const why = mock ? (rule ? ruleBeyondAMock(rule) : mockLeavesOut(id)) : undefined;
    if (why === undefined) return true;
    seen += 1;
    notChecked.push({ id, why: `not in the mock profile: ${why}` });
    return false;
  };
  const skip = (id: string, group: CheckGroup, title: string, expected: string, why: string) =>
    record({ id, group, title, expected, got: '', outcome: 'skipped', problems: [why] });
  const curlOf = (request: OutgoingRequest, url = `${options.baseUrl}${request.path ?? '/v1/cloudRecord'}`) => curlLine(url, request, secrets);

  /** What is wrong with an answer: its break of the spec, and its difference from the wanted answer. */
  async function answerProblems(exchange: Exchange, wanted?: Wanted): Promise<string[]> {
    const problems = await responseProblems('POST', '/v1/cloudRecord', exchange.response);
    if (!wanted) return problems;
    if ('text' in wanted) return wanted.refused.includes(exchange.status) ? [`answered ${describeAnswer(exchange)}`, ...problems] : problems;
    if (exchange.status !== wanted.status) {
      const answered = exchange.status === 429 || exchange.status === 503 ? describeAnswer(exchange) : `status ${exchange.status}`;
      return [`answered ${answered}, not ${wanted.status}${notWaitedOut(exchange, maxWaitSec)}`, ...problems];
    }
    const code = codeOf(exchange);
    if (!mock && code !== wanted.code) return [`answered ${code === undefined ? 'no error code' : `code ${JSON.stringify(code)}`}, not ${wanted.code}`, ...problems];
    return problems;
  }

  /** Sends one request and records whether its answer is the wanted one (and, when given, what else it must hold). */
  const check = async (id: string, group: CheckGroup, title: string, request: OutgoingRequest, wanted: Wanted, also?: (exchange: Exchange) => string[], admitted = false) => {
    if (!admitted && !runs_(id)) return undefined;
    if (!('text' in wanted)) provoked.add(mock ? `${wanted.status}` : wanted.code);
    const expected = mock && !('text' in wanted) ? `${wanted.status}` : describeWanted(wanted);
    const exchange = await sendOrFail(request);
    if ('error' in exchange) {
      record({ id, group, title, expected, got: 'no answer', outcome: 'failed', problems: [exchange.error], curl: curlOf(request) });
      return undefined;
    }
    const problems = await answerProblems(exchange, wanted);
    if (!problems.length && also) problems.push(...also(exchange));
    record({ id, group, title, expected, got: describeAnswer(exchange), outcome: problems.length ? 'failed' : 'passed', problems, curl: curlOf(request, exchange.url) });
    return problems.length ? undefined : exchange;
  };
  const sendOrFail = async (request: OutgoingRequest, sendOptions?: SendOptions): Promise<Exchange | { error: string }> => {
    try {
      return await sender.send(request, sendOptions);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { error: `no answer: ${(error as Error).name === 'TimeoutError' ? 'timed out' : (cause ?? (error as Error).message)}` };
    }
  };
  const json = (body: object): OutgoingRequest => ({ contentType: 'application/json', body: JSON.stringify(body) });
  const skipProject = (id: ProjectCheckId, why: string) => {
    if (!runs_(id)) return;
    const { group, title, expected } = projectChecks[id];
    skip(id, group, title, expected, why);
  };

  // --- the request rules: each broken alone, each answered with its documented status and code
  // In the mock profile, only the rules the request's schema states (and the content type it declares).
  for (const rule of rules) if (runs_(rule.id, rule)) await check(rule.id, 'request rules', rule.title, rule.request, rule.expected, undefined, true);
  const unknown = { ...base, ...placeholder, channel: base.channel };
  await check('credentials.unknown', 'request rules', 'a valid request from credentials no project has', json(unknown), { status: 401, code: 'invalid_credentials' });
  // Judged only on the rule they name: a server that does not check credentials (or a mock) may answer them otherwise.
  await check(
    'integer.written-1.0',
    'request rules',
    'an integer written 1.0 (the same JSON number as 1) is accepted',
    { contentType: 'application/json', body: JSON.stringify(unknown).replace(/}$/, ',"layout_mode":1.0}') },
    { text: 'any documented answer but 400', refused: [400] },
  );
  await check(
    'request-id.echoed',
    'request rules',
    `the caller's own X-Request-Id (${callerRequestId}) comes back in the answer`,
    { ...json(unknown), headers: { 'X-Request-Id': callerRequestId } },
    { text: 'any documented answer, with that X-Request-Id', refused: [] },
    (exchange) => {
      const echoed = exchange.response.headers.get('x-request-id');
      return echoed === callerRequestId ? [] : [`the answer's X-Request-Id is ${echoed === null ? 'missing' : JSON.stringify(echoed)}, not the request's ${callerRequestId}`];
    },
  );
  await notFound('not-found.path', 'a path the API does not have (POST /v1/cloudRecords)', { ...json(base), path: '/v1/cloudRecords' });
  await notFound('not-found.method', 'a method the path does not have (GET /v1/cloudRecord)', { method: 'GET', body: '' });

  // --- a real project and channel
  if (credentials) {
    await clientChecks(credentials);
    await check('credentials.wrong-sign-key', 'credentials', projectChecks['credentials.wrong-sign-key'].title, json({ ...credentials, sign_key: `${credentials.sign_key}-wrong` }), { status: 401, code: 'invalid_credentials' });
  } else {
    for (const id of Object.keys(projectChecks) as ProjectCheckId[]) skipProject(id, 'needs --app-id, --project-id, --sign-key and --channel');
  }
  const channel = credentials?.channel ?? placeholder.channel;
  const fixtures = options.fixtures ?? {};
  const precondition = async (id: string, title: string, body: StartRecordingRequest | undefined, expected: ExpectedAnswer, needs: string) => {
    if (body) await check(id, 'preconditions', title, json(body), expected);
    else if (runs_(id)) skip(id, 'preconditions', title, describeWanted(expected), `needs ${needs}`);
  };
  await precondition('precondition.recording-off', 'a project with recording switched off', fixtures.recordingOff && { ...fixtures.recordingOff, channel }, { status: 403, code: 'recording_not_enabled' }, '--recording-off-project');
  await precondition('precondition.no-storage', 'a project with no object storage', fixtures.noStorage && { ...fixtures.noStorage, channel }, { status: 409, code: 'storage_not_configured' }, '--no-storage-project');
  await precondition(
    'precondition.empty-channel',
    'a channel with nobody in it',
    options.credentials && fixtures.emptyChannel ? { ...options.credentials, channel: fixtures.emptyChannel } : undefined,
    { status: 409, code: 'channel_empty' },
    'the credentials and --empty-channel',
  );

  // --- generated requests
  const own = options.credentials && !mock;
  await generated('generated.valid', own ? 'valid requests of the project, generated (any channel)' : mock ? 'valid requests, generated' : 'valid requests, generated, from unknown credentials',
    own || mock ? 'a documented answer, not 400, 413, 415 or 5xx' : '401 invalid_credentials',
    validBody.map((body) => json({ ...body, ...(own ? { app_id: credentials!.app_id, project_id: credentials!.project_id, sign_key: credentials!.sign_key } : placeholder), channel: (body as { channel: string }).channel })),
    own || mock ? undefined : { status: 401, code: 'invalid_credentials' },
    (status) => ((own || mock) && (status === 400 || status === 413 || status === 415 || status >= 500) ? [`a valid request answered ${status}`] : []),
  );
  await generated('generated.one-rule-broken', 'requests that break one rule, generated', mock ? '400' : '400 invalid_parameter (audio_only_and_video_only for the exclusion)',
    brokenBody.map(({ rule, body }) => {
      // The project's own credentials in every field the broken rule is not about.
      const ownFields = credentials ? Object.entries(credentials).filter(([field]) => field !== 'channel' && !rule.startsWith(`${field} `)) : [];
      return { ...json({ ...body, ...Object.fromEntries(ownFields) }), rule };
    }),
    (request) => ({ status: 400, code: (request as { rule?: string }).rule === 'the not rule' ? 'audio_only_and_video_only' : 'invalid_parameter' }),
  );
  // A mock is sent JSON only: how it reads a body of another type is its own.
  await generated('generated.not-a-request', mock ? 'random JSON, generated' : 'random JSON and text, generated', mock ? '400' : '400 for JSON, 415 for other content types',
    mock
      ? fc.json().map((body) => ({ contentType: 'application/json', body }))
      : fc.oneof(
          fc.json().map((body) => ({ contentType: 'application/json', body })),
          fc.tuple(fc.string(), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data')).map(([body, contentType]) => ({ contentType, body })),
        ),
    undefined,
    (status, request) => {
      const wanted = request.contentType === 'application/json' ? 400 : 415;
      return status === wanted ? [] : [`answered status ${status}, not ${wanted}`];
    },
  );

  // --- what no check provoked, each documented answer named
  if (!results.some((r) => r.id === 'rate-limit.burst' && r.outcome !== 'skipped')) provoked.delete('rate_limited');
  for (const { status, name } of documentedFailures('/v1/cloudRecord', 'post')) {
    if (provoked.has(mock ? `${status}` : name)) continue;
    const why = unprovokable[name] ?? (mock ? 'no check of the mock profile provokes it' : 'no check of this run provokes it (its check was skipped)');
    notChecked.push({ id: `${status} ${name}`, why });
  }

  /** A path or method outside the API: 404 not_found in the spec's error shape, with X-Request-Id. */
  async function notFound(id: string, title: string, request: OutgoingRequest) {
    if (!runs_(id)) return;
    const exchange = await sendOrFail(request);
    const curl = curlOf(request);
    if ('error' in exchange) return record({ id, group: 'request rules', title, expected: '404 not_found', got: 'no answer', outcome: 'failed', problems: [exchange.error], curl });
    const problems: string[] = [];
    if (exchange.status !== 404) problems.push(`answered status ${exchange.status}, not 404`);
    const requestId = exchange.response.headers.get('x-request-id');
    if (requestId === null) problems.push('required header X-Request-Id is missing');
    else if (!validateRequestId(requestId)) problems.push(`header X-Request-Id is ${JSON.stringify(requestId)}: it ${describeErrors(validateRequestId.errors, '').join('; ')}`);
    if (exchange.json === undefined) problems.push('the body is not JSON');
    else if (!validateError(exchange.json)) problems.push(...describeErrors(validateError.errors));
    else if (exchange.status === 404 && codeOf(exchange) !== 'not_found') problems.push(`answered code ${JSON.stringify(codeOf(exchange))}, not not_found`);
    record({ id, group: 'request rules', title, expected: '404 not_found', got: describeAnswer(exchange), outcome: problems.length ? 'failed' : 'passed', problems, curl });
  }

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
      curl: curlOf(shown.request),
    });
  }

  /** Success, identical repeat, different settings and the rate limit, the first sent by the client and its request checked too. */
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
    const curl = curlOf(json(body));
    const later: ProjectCheckId[] = ['credentials.identical-repeat', 'credentials.different-settings', 'rate-limit.burst', 'rate-limit.identical-repeat-free'];
    if (!result.ok || !answered) {
      const got =
        result.kind === 'api' ? `${result.status} ${result.error.code}`
        : result.kind === 'unexpected-response' ? `${result.status}, an answer the spec does not document`
        : `no answer (${result.kind})`;
      const problems = answered ? await answerProblems(answered) : [];
      record({ id: 'credentials.success', ...projectChecks['credentials.success'], got, outcome: 'failed', problems: [`not a success: ${got}`, ...problems], curl });
      for (const id of later) skipProject(id, 'needs the success above');
      return;
    }
    const problems200 = await answerProblems(answered);
    const taskId = result.data.task_id;
    record({ id: 'credentials.success', ...projectChecks['credentials.success'], got: `200 success, task_id ${taskId}`, outcome: problems200.length ? 'failed' : 'passed', problems: problems200, curl });
    const sameTask = (repeat: Exchange) => {
      const repeatedId = (repeat.json as { task_id?: unknown }).task_id;
      return repeatedId === taskId ? [] : [`answered task_id ${String(repeatedId)}, not ${taskId}: a retry would start a second recording`];
    };
    await check('credentials.identical-repeat', 'credentials', projectChecks['credentials.identical-repeat'].title, json(body), { status: 200, code: 'success' }, sameTask);
    await check('credentials.different-settings', 'credentials', projectChecks['credentials.different-settings'].title, json({ ...body, is_mixing_enabled: 1 }), { status: 409, code: 'channel_already_recording' });
    await rateLimitChecks(json(body));
  }

  /**
   * A burst of twice the app's rate limit and one, sent at once to a channel with nobody in it (so
   * each is 409 channel_empty or 429 rate_limited), must see 429s with Retry-After; then, while the
   * limit is spent (one more request is refused), the identical repeat must still get its task.
   */
  async function rateLimitChecks(repeat: OutgoingRequest) {
    const [burst, repeatFree] = [runs_('rate-limit.burst'), runs_('rate-limit.identical-repeat-free')];
    if (!burst || !repeatFree) return;
    const { group, title, expected } = projectChecks['rate-limit.burst'];
    const free = projectChecks['rate-limit.identical-repeat-free'];
    if (rateLimit > largestBurstLimit) {
      skip('rate-limit.burst', group, title, expected, `the rate limit ${rateLimit} is over the ${largestBurstLimit} a burst is sent for`);
      return skip('rate-limit.identical-repeat-free', free.group, free.title, free.expected, 'needs the burst above');
    }
    const filler = json({ ...options.credentials!, channel: unusedChannel });
    const once = { retryLater: false, paced: false };
    const answers = await Promise.all(Array.from({ length: rateLimit * 2 + 1 }, () => sendOrFail(filler, once)));
    const problems = new Set<string>();
    let refused = 0;
    for (const answer of answers) {
      if ('error' in answer) {
        problems.add(answer.error);
        continue;
      }
      if (answer.status === 429) refused += 1;
      else if (answer.status !== 409) problems.add(`answered status ${answer.status}, not 409 channel_empty or 429`);
      for (const problem of await answerProblems(answer)) problems.add(problem);
    }
    if (refused === 0) problems.add(`no request of ${answers.length} sent at once was refused: the app's limit is ${rateLimit} a second${options.rateLimitPerSec ? '' : ' (the spec\'s; --rate-limit gives a server\'s own)'}`);
    const shown = answers.find((a): a is Exchange => !('error' in a) && a.status === 429) ?? answers.find((a): a is Exchange => !('error' in a));
    record({ id: 'rate-limit.burst', group, title: `${title} (${answers.length} at once)`, expected, got: `${refused} of ${answers.length} refused 429`, outcome: problems.size ? 'failed' : 'passed', problems: [...problems], curl: curlOf(filler, shown?.url) });
    // The repeat is sent right after a request the limit refuses, so a server that counts it refuses it too.
    for (let attempt = 0; attempt < 3; attempt++) {
      const probe = await sendOrFail(filler, once);
      if ('error' in probe || probe.status !== 429) continue;
      const answer = await sendOrFail(repeat, once);
      if ('error' in answer) return record({ id: 'rate-limit.identical-repeat-free', group: free.group, title: free.title, expected: free.expected, got: 'no answer', outcome: 'failed', problems: [answer.error], curl: curlOf(repeat) });
      // Only whether it was counted: whether it got the same task is the identical-repeat check's.
      const problems = answer.status === 200 ? await answerProblems(answer) : [`answered ${describeAnswer(answer)}, not 200: the identical repeat was counted against the rate limit`, ...(await answerProblems(answer))];
      await spent(probe);
      return record({ id: 'rate-limit.identical-repeat-free', group: free.group, title: free.title, expected: free.expected, got: describeAnswer(answer), outcome: problems.length ? 'failed' : 'passed', problems, curl: curlOf(repeat) });
    }
    skip('rate-limit.identical-repeat-free', free.group, free.title, free.expected, 'needs a moment when the rate limit is spent (a request refused 429 just before)');
    await spent(answers.find((a): a is Exchange => !('error' in a) && a.status === 429));
  }

  /** Waits until the limit the burst spent is back (the 429's Retry-After, or a second), so the next checks are not refused for it. */
  async function spent(refused: Exchange | undefined) {
    const seconds = Number(refused?.response.headers.get('retry-after'));
    await sleep((seconds >= 1 && seconds <= maxWaitSec ? seconds : 1) * 1000);
  }

  const summary = {
    passed: results.filter((r) => r.outcome === 'passed').length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    skipped: results.filter((r) => r.outcome === 'skipped').length,
    requests: sender.counts.requests,
    rateLimitWaits: sender.counts.waits,
  };
  return { baseUrl: options.baseUrl, profile, seed, runs, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, results, notChecked, summary, conforms: summary.failed === 0 };
}
