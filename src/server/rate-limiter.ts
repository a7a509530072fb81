// A sliding one-second window per key (the app_id): at most `limit` requests in any second.

export function createRateLimiter(limit: number, now: () => number = Date.now) {
  const windows = new Map<string, number[]>();
  return {
    /** Counts a request for `key`; returns the seconds to wait when it is over the limit, else 0. */
    take(key: string): number {
      const t = now();
      const recent = (windows.get(key) ?? []).filter((at) => at > t - 1000);
      if (recent.length >= limit) {
        windows.set(key, recent);
        return Math.max(1, Math.ceil((recent[0]! + 1000 - t) / 1000));
      }
      recent.push(t);
      windows.set(key, recent);
      return 0;
    },
  };
}
