// When a failed attempt is tried again, and after how long.

/** Statuses after which the same request may succeed: not sent in time, rate limited, or the service or a gateway failed. */
const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);

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

/** `Retry-After` in milliseconds, or undefined when it is not a number of seconds (the form the spec gives it). */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  return value && /^\d+$/.test(value) ? Number(value) * 1000 : undefined;
}

/** Exponential backoff with jitter: between half and all of base × 2^(retry − 1), capped. */
export const backoffMs = (retry: number, baseMs: number, maxMs: number, random = Math.random) =>
  Math.min(maxMs, baseMs * 2 ** (retry - 1)) * (0.5 + random() / 2);
