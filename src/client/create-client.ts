import { createFinalURL, defaultBodySerializer, mergeHeaders } from 'openapi-fetch';
import { apiVersion, responseRules } from '../../generated/response-rules.js';
import type {
  paths,
  SchemaError as ApiError,
  SchemaStartRecordingRequest as StartRecordingRequest,
  SchemaStartRecordingResponse as StartRecordingResponse,
} from '../../generated/types.js';
import { bodyHolds } from './response-check.js';
import { backoffMs, defaultRetry, isRetryableStatus, retryAfterMs } from './retry-policy.js';

export type {
  SchemaStartRecordingRequest as StartRecordingRequest,
  SchemaStartRecordingResponse as StartRecordingResponse,
  SchemaError as ApiError,
  SchemaErrorCode as ErrorCode,
} from '../../generated/types.js';
export { defaultRetry } from './retry-policy.js';

/** Values of the service's common query parameters, attached to every request. */
export type CommonQuery = Record<string, string | number | boolean>;

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Where the API is served, e.g. `http://127.0.0.1:8787` (no trailing `/v1`). */
  baseUrl: string;
  /** The fetch implementation to use; defaults to the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request (they override the client's `User-Agent`). */
  headers?: Record<string, string>;
  /** The common query parameters (documented in the API overview), sent with every request. */
  query?: CommonQuery;
  /** How long one attempt may take, reading the answer included, before it is abandoned (default 30 000 ms). */
  timeoutMs?: number;
  /**
   * How many times a failed attempt is tried again (default 2; 0 turns retries off). Retried: no
   * answer (network failure, timeout), 429 (after its `Retry-After`), 408, 500, 502, 503 and 504, with
   * exponential backoff and jitter. Retrying a start is safe: the service answers a repeat of an
   * active task's request with that task's `task_id`, so a start whose answer was lost does not
   * start a second recording.
   */
  maxRetries?: number;
}

/** Options of one call; each overrides the client's own. */
export interface CallOptions {
  /** Ends the call when aborted, waits between retries included (`kind: 'aborted'`). */
  signal?: AbortSignal;
  /** How long one attempt may take (see {@link ClientOptions.timeoutMs}). */
  timeoutMs?: number;
  /** How many times a failed attempt is tried again (see {@link ClientOptions.maxRetries}). */
  maxRetries?: number;
}

/** What every result says of the call, whatever its outcome. */
export interface CallRecord {
  /** How many requests were sent: 1 when the first attempt was the last. */
  attempts: number;
  /** The `X-Request-Id` of the last answer, which the service also logs; none without an answer. */
  requestId?: string;
}

/**
 * What {@link CloudRecordClient.startRecording} returns; it never throws for HTTP or network
 * failures. An answer counts as the spec's only when its status is documented and its body keeps
 * the rules the spec gives that status; anything else is `unexpected-response`.
 */
export type StartRecordingResult = CallRecord &
  (
    | { ok: true; kind: 'success'; status: number; data: StartRecordingResponse; response: Response }
    /** The API answered with one of the errors the spec documents for that status. */
    | { ok: false; kind: 'api'; status: number; error: ApiError; response: Response }
    /** An answer outside the spec (a proxy's error page, a body of the wrong shape): its text, and its JSON when it is JSON. */
    | { ok: false; kind: 'unexpected-response'; status: number; text: string; body: unknown; response: Response }
    /** No answer: `network` (the message names the cause, e.g. ECONNREFUSED), `timeout` (the last attempt took longer than `timeoutMs`) or `aborted` (by the call's `signal`). */
    | { ok: false; kind: 'network' | 'timeout' | 'aborted'; error: Error; response?: undefined }
  );

type AttemptResult = StartRecordingResult extends infer R ? (R extends unknown ? Omit<R, keyof CallRecord> : never) : never;

/** A typed client for the cloud-recording API. */
export interface CloudRecordClient {
  /** `POST /v1/cloudRecord`: start a recording task for a channel. */
  startRecording(body: StartRecordingRequest, options?: CallOptions): Promise<StartRecordingResult>;
}

const errorRules = Object.entries(responseRules).filter(([status]) => status !== '200');

/** True when `body` is one of the spec's error bodies (`{ code, message }`, a documented code). */
export function isApiError(body: unknown): body is ApiError {
  return errorRules.some(([, rule]) => bodyHolds(rule, body));
}

/** The answer classified by the spec: the success body, a documented error, or neither. */
function classify(response: Response, text: string): AttemptResult {
  const { status } = response;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const rule = responseRules[status];
  if (rule && bodyHolds(rule, body)) {
    return response.ok
      ? { ok: true, kind: 'success', status, data: body as StartRecordingResponse, response }
      : { ok: false, kind: 'api', status, error: body as ApiError, response };
  }
  return { ok: false, kind: 'unexpected-response', status, text, body, response };
}

/** Why there was no answer, in words that name the cause (undici hides it in `cause`). */
function noAnswer(kind: 'network' | 'timeout' | 'aborted', cause: unknown, url: string, timeoutMs: number): Error {
  if (kind === 'aborted' && cause instanceof Error) return cause;
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const reason = kind === 'timeout' ? `no answer within ${timeoutMs} ms` : kind === 'aborted' ? 'aborted' : (inner?.code ?? inner?.message ?? String(cause));
  return new Error(`Could not reach ${url}: ${reason}.`, { cause });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<boolean>((done) => {
    if (signal?.aborted) return done(false);
    const stop = () => {
      clearTimeout(timer);
      done(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      done(true);
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });

const nodeVersion = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;

const path: keyof paths = '/v1/cloudRecord';

/**
 * Creates a client for the API served at `options.baseUrl`. Requests are built with openapi-fetch's
 * own helpers (URL, headers, body); answers are read and classified here, by the spec's rules.
 */
export function createClient(options: ClientOptions): CloudRecordClient {
  const custom = options.fetch;
  const query = new URLSearchParams(Object.entries(options.query ?? {}).map(([name, value]) => [name, String(value)])).toString();
  // The common query goes into the URL itself, so the body is sent once, with its length.
  const url = createFinalURL(path, { baseUrl: options.baseUrl.replace(/\/$/, ''), params: {}, querySerializer: () => query, pathSerializer: (p) => p });
  const headers = mergeHeaders(
    { 'Content-Type': 'application/json' },
    // Browsers do not let a page set User-Agent; elsewhere it says who is calling.
    nodeVersion ? { 'User-Agent': `cloudrec/${apiVersion} node/${nodeVersion}` } : undefined,
    options.headers,
  );

  async function attempt(body: StartRecordingRequest, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      if (signal?.aborted) throw signal.reason;
      const init = { method: 'POST', headers, body: defaultBodySerializer(body), signal: controller.signal };
      const exchange = (async () => {
        const response = custom ? await custom(new Request(url, init)) : await fetch(url, init);
        // Read under the same timeout: an answer that stalls mid-body is a timeout too.
        return classify(response, await response.text());
      })();
      if (!custom) return await exchange;
      // A custom fetch may ignore the signal: the attempt still ends when it aborts.
      exchange.catch(() => {});
      return await Promise.race([exchange, new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)))]);
    } catch (cause) {
      const kind = timedOut ? 'timeout' : signal?.aborted ? 'aborted' : 'network';
      return { ok: false, kind, error: noAnswer(kind, kind === 'aborted' ? signal?.reason : cause, url, timeoutMs) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }

  return {
    async startRecording(body, call = {}) {
      const maxRetries = call.maxRetries ?? options.maxRetries ?? defaultRetry.maxRetries;
      const timeoutMs = call.timeoutMs ?? options.timeoutMs ?? defaultRetry.timeoutMs;
      // Aborted before anything was sent: no attempt.
      if (call.signal?.aborted) {
        return { ok: false, kind: 'aborted', error: noAnswer('aborted', call.signal.reason, url, timeoutMs), response: undefined, attempts: 0, requestId: undefined } as StartRecordingResult;
      }
      for (let attempts = 1; ; attempts++) {
        const result = await attempt(body, timeoutMs, call.signal);
        const retryable = result.response ? isRetryableStatus(result.response.status) : result.kind !== 'aborted';
        const wait = result.response ? retryAfterMs(result.response.headers) : undefined;
        const delay = wait ?? backoffMs(attempts, defaultRetry.baseDelayMs, defaultRetry.maxDelayMs);
        const again = retryable && attempts <= maxRetries && delay <= defaultRetry.maxDelayMs;
        if (!again || !(await pause(delay, call.signal))) {
          const aborted = again ? { ok: false, kind: 'aborted', error: noAnswer('aborted', call.signal?.reason, url, timeoutMs), response: undefined } : result;
          return { ...aborted, attempts, requestId: result.response?.headers.get('x-request-id') ?? undefined } as StartRecordingResult;
        }
      }
    },
  };
}
