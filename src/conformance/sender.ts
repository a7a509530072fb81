// Sends the checks' requests to the server under test: paced to a most requests per second,
// each with a time limit, and a 429 or 503 that keeps the spec (a Retry-After) waited out and
// sent again rather than counted against the server.
import { setTimeout as sleep } from 'node:timers/promises';
import { responseProblems } from './exchange-check.js';

export interface OutgoingRequest {
  method?: string;
  path?: string;
  contentType?: string;
  /** Other headers to send (X-Request-Id, say). */
  headers?: Record<string, string>;
  body: string;
}

/** One request and the answer it got. */
export interface Exchange {
  url: string;
  request: OutgoingRequest;
  response: Response;
  status: number;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface SenderOptions {
  baseUrl: string;
  /** At most this many requests a second (default: no pacing). */
  maxRps?: number;
  /** How long one request may take, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** The longest Retry-After waited out before the 429 is kept as the answer (default 120 s). */
  maxWaitSec?: number;
  fetch?: typeof globalThis.fetch;
  /** Called before each wait for the Retry-After of a 429 or a 503. */
  onWait?: (seconds: number, status: number) => void;
}

export interface SendOptions {
  /** Wait out a 429 or 503 that keeps the spec and send again (default true). */
  retryLater?: boolean;
  /** Keep to `maxRps` (default true); a burst meant to cross the server's rate limit is not paced. */
  paced?: boolean;
}

export interface Sender {
  send(request: OutgoingRequest, options?: SendOptions): Promise<Exchange>;
  /** Requests sent, and 429s waited out, so far. */
  readonly counts: { requests: number; waits: number };
}

export function createSender(options: SenderOptions): Sender {
  const fetch = options.fetch ?? globalThis.fetch;
  const interval = options.maxRps ? 1000 / options.maxRps : 0;
  const counts = { requests: 0, waits: 0 };
  let nextAt = 0;

  const sendOnce = async (request: OutgoingRequest, paced: boolean): Promise<Exchange> => {
    if (paced) {
      const wait = nextAt - Date.now();
      nextAt = Math.max(Date.now(), nextAt) + interval;
      if (wait > 0) await sleep(wait);
    }
    const url = `${options.baseUrl}${request.path ?? '/v1/cloudRecord'}`;
    counts.requests += 1;
    const response = await fetch(url, {
      method: request.method ?? 'POST',
      // A typeless byte body: fetch adds no Content-Type of its own, so "none" can be sent.
      headers: { ...request.headers, ...(request.contentType !== undefined && { 'content-type': request.contentType }) },
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : new TextEncoder().encode(request.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.clone().text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { url, request, response, status: response.status, text, json };
  };

  return {
    counts,
    async send(request, { retryLater = true, paced = true } = {}) {
      for (;;) {
        const exchange = await sendOnce(request, paced);
        if (!retryLater || (exchange.status !== 429 && exchange.status !== 503)) return exchange;
        // "Try again later" (429 rate_limited, 503 service_unavailable) that breaks the spec is the
        // answer to judge; one that keeps it, Retry-After included, is waited out and sent again.
        const seconds = Number(exchange.response.headers.get('retry-after'));
        const kept = (await responseProblems('POST', '/v1/cloudRecord', exchange.response)).length === 0;
        if (!kept || !(seconds >= 1) || seconds > (options.maxWaitSec ?? 120)) return exchange;
        counts.waits += 1;
        options.onWait?.(seconds, exchange.status);
        await sleep(seconds * 1000);
      }
    },
  };
}
