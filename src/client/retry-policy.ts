// When a failed attempt is tried again, and after how long.

/** Statuses after which the same request may succeed: rate limited, or the service or a gateway failed. */
const retryableStatuses = new Set([429, 500, 502, 503, 504]);

/** Defaults of the retry and timeout options. */
export const defaultRetry = {
  /** Attempts after the first. */
  maxRetries: 2,
  /** The first backoff; each retry doubles it. */
  baseDelayMs: 500,
  /** The longest wait between attempts; a `Retry-After` beyond it ends the call instead. */
  maxDelayMs: 30_000,
  /** Per attempt, reading the answer included. */
  timeoutMs: 30_000,
} as const;

export const isRetryableStatus = (status: number) => retryableStatuses.has(status);

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.max(0, ms);
}

/** Exponential backoff with jitter: between half and all of base × 2^(retry − 1), capped. */
export const backoffMs = (retry: number, baseMs: number, maxMs: number, random = Math.random) =>
  Math.min(maxMs, baseMs * 2 ** (retry - 1)) * (0.5 + random() / 2);
