import createFetchClient, { type Middleware } from 'openapi-fetch';
import {
  errorCodeValues,
  type paths,
  type SchemaError as ApiError,
  type SchemaStartRecordingRequest as StartRecordingRequest,
  type SchemaStartRecordingResponse as StartRecordingResponse,
} from '../../generated/types.js';

export type {
  SchemaStartRecordingRequest as StartRecordingRequest,
  SchemaStartRecordingResponse as StartRecordingResponse,
  SchemaError as ApiError,
  SchemaErrorCode as ErrorCode,
} from '../../generated/types.js';

/** Values of the service's common query parameters, attached to every request. */
export type CommonQuery = Record<string, string | number | boolean>;

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Where the API is served, e.g. `http://127.0.0.1:8787` (no trailing `/v1`). */
  baseUrl: string;
  /** The fetch implementation to use; defaults to the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The common query parameters (documented in the API overview), sent with every request. */
  query?: CommonQuery;
}

/** What {@link CloudRecordClient.startRecording} returns: never throws for HTTP or network failures. */
export type StartRecordingResult =
  | { ok: true; status: number; data: StartRecordingResponse }
  /** The API answered with one of the spec's errors. */
  | { ok: false; kind: 'api'; status: number; error: ApiError }
  /** The request never got an HTTP answer (connection refused, DNS, aborted). */
  | { ok: false; kind: 'network'; error: Error }
  /** An HTTP answer that is not the spec's (a proxy's error page, say). */
  | { ok: false; kind: 'unexpected-response'; status: number; body: unknown };

/** A typed client for the cloud-recording API. */
export interface CloudRecordClient {
  /** `POST /v1/cloudRecord`: start a recording task for a channel. */
  startRecording(body: StartRecordingRequest): Promise<StartRecordingResult>;
}

const errorCodes: ReadonlySet<unknown> = new Set(errorCodeValues);

/** True when `body` has the shape of the spec's `Error`. */
export function isApiError(body: unknown): body is ApiError {
  if (typeof body !== 'object' || body === null) return false;
  const { code, message } = body as Record<string, unknown>;
  return errorCodes.has(code) && typeof message === 'string';
}

/** Middleware that appends the common query parameters to every request's URL. */
function commonQueryMiddleware(query: CommonQuery): Middleware {
  return {
    onRequest({ request }) {
      const url = new URL(request.url);
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
      return new Request(url, request);
    },
  };
}

/** Creates a client for the API served at `options.baseUrl`. */
export function createClient(options: ClientOptions): CloudRecordClient {
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.headers,
    // Resolved per call, so a test or polyfill that replaces globalThis.fetch later is honoured.
    fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
  });
  if (options.query && Object.keys(options.query).length > 0) client.use(commonQueryMiddleware(options.query));

  return {
    async startRecording(body) {
      let result;
      try {
        result = await client.POST('/v1/cloudRecord', { body });
      } catch (cause) {
        return { ok: false, kind: 'network', error: cause instanceof Error ? cause : new Error(String(cause)) };
      }
      const { data, error, response } = result;
      if (data !== undefined) return { ok: true, status: response.status, data };
      if (isApiError(error)) return { ok: false, kind: 'api', status: response.status, error };
      return { ok: false, kind: 'unexpected-response', status: response.status, body: error };
    },
  };
}
