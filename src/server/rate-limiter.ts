// A sliding window per key: at most `limit` counted requests in any `windowMs`. Keys whose window
// has emptied are forgotten, so memory follows the keys active in the last window, not every key
// ever seen.

export function createRateLimiter(limit: number, now: () => number = Date.now, windowMs = 1000) {
  const windows = new Map<string, number[]>();
  let lastSweep = now();

  /** Forgets every key with nothing in its window; at most once a window, so O(1) a request on average. */
  function sweep(t: number) {
    if (t - lastSweep < windowMs) return;
    lastSweep = t;
    for (const [key, times] of windows) if (times[times.length - 1]! <= t - windowMs) windows.delete(key);
  }

  return {
    /** Counts a request for `key`; returns the seconds to wait when it is over the limit, else 0. */
    take(key: string): number {
      const t = now();
      sweep(t);
      const recent = (windows.get(key) ?? []).filter((at) => at > t - windowMs);
      if (recent.length >= limit) {
        windows.set(key, recent);
        return Math.max(1, Math.ceil((recent[0]! + windowMs - t) / 1000));
      }
      recent.push(t);
      windows.set(key, recent);
      return 0;
    },
    /** The seconds `key` must wait now, without counting a request (0 when it may go). */
    waitFor(key: string): number {
      const t = now();
      const recent = (windows.get(key) ?? []).filter((at) => at > t - windowMs);
      return recent.length >= limit ? Math.max(1, Math.ceil((recent[0]! + windowMs - t) / 1000)) : 0;
    },
    /** How many keys are remembered (for tests of the forgetting). */
    get size() {
      return windows.size;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
