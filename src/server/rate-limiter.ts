// A sliding window per key: at most `limit` counted requests in any `windowMs`. Each key keeps the
// times of its requests in the window, oldest first, dropped from the front as they expire, so a
// request costs O(1) on average whatever the limit. Keys whose window has emptied are forgotten,
// so memory follows the keys active in the last window, not every key ever seen.

interface Window {
  times: number[];
  /** Index of the oldest time still in the window. */
  head: number;
}

export function createRateLimiter(limit: number, now: () => number = Date.now, windowMs = 1000) {
  const windows = new Map<string, Window>();
  let lastSweep = now();

  /** Forgets every key with nothing in its window; at most once a window, so O(1) a request on average. */
  function sweep(t: number) {
    if (t - lastSweep < windowMs) return;
    lastSweep = t;
    for (const [key, w] of windows) if (w.times[w.times.length - 1]! <= t - windowMs) windows.delete(key);
  }

  /** The key's window with the expired times dropped. */
  function current(key: string, t: number): Window {
    let w = windows.get(key);
    if (!w) {
      w = { times: [], head: 0 };
      windows.set(key, w);
    }
    while (w.head < w.times.length && w.times[w.head]! <= t - windowMs) w.head += 1;
    // Drop the expired part now and then, so the array does not grow with every request ever made.
    if (w.head > 64 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head);
      w.head = 0;
    }
    return w;
  }

  const wait = (w: Window, t: number) => Math.max(1, Math.ceil((w.times[w.head]! + windowMs - t) / 1000));

  return {
    /** Counts a request for `key`; returns the seconds to wait when it is over the limit, else 0. */
    take(key: string): number {
      const t = now();
      sweep(t);
      const w = current(key, t);
      if (w.times.length - w.head >= limit) return wait(w, t);
      w.times.push(t);
      return 0;
    },
    /** The seconds `key` must wait now, without counting a request (0 when it may go). */
    waitFor(key: string): number {
      const t = now();
      const w = windows.get(key);
      if (!w) return 0;
      const inWindow = current(key, t);
      return inWindow.times.length - inWindow.head >= limit ? wait(inWindow, t) : 0;
    },
    /** How many keys are remembered (for tests of the forgetting). */
    get size() {
      return windows.size;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** A limit as the start path uses it: the in-memory one answers at once, the fleet's (PostgreSQL) with a promise. */
export interface Limiter {
  /** Counts a request for `key`; the seconds to wait when it is over the limit, else 0. */
  take(key: string): number | Promise<number>;
  /** The seconds `key` must wait now, without counting a request (0 when it may go). */
  waitFor(key: string): number;
}
