// The per-app start-request limit: a sliding one-second window on an injected clock.
import { expect, test } from 'vitest';
import { createRateLimiter } from '../../src/server/rate-limiter.js';

test('allows the limit within a second, refuses the next with the seconds to wait', () => {
  let t = 10_000;
  const limiter = createRateLimiter(3, () => t);
  expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
  expect(limiter.take('a')).toBe(1);
  t += 999;
  expect(limiter.take('a')).toBe(1);
  t += 1;
  expect(limiter.take('a')).toBe(0);
});

test('counts each key on its own', () => {
  const limiter = createRateLimiter(1, () => 0);
  expect(limiter.take('a')).toBe(0);
  expect(limiter.take('b')).toBe(0);
  expect(limiter.take('a')).toBe(1);
});

test('does not count refused requests against the window', () => {
  let t = 0;
  const limiter = createRateLimiter(2, () => t);
  limiter.take('a');
  limiter.take('a');
  for (let i = 0; i < 50; i++) limiter.take('a');
  t = 1000;
  expect(limiter.take('a')).toBe(0);
});

test('forgets keys whose window has emptied, so 100,000 app_ids seen once leave nothing behind', () => {
  let t = 0;
  const limiter = createRateLimiter(10, () => t);
  for (let i = 0; i < 100_000; i++) limiter.take(`app-${i}`);
  expect(limiter.size).toBe(100_000);
  t = 1000;
  limiter.take('now');
  expect(limiter.size).toBe(1);
});

test('waitFor tells the wait without counting a request', () => {
  let t = 0;
  const limiter = createRateLimiter(2, () => t, 60_000);
  expect(limiter.waitFor('a')).toBe(0);
  limiter.take('a');
  limiter.take('a');
  expect(limiter.waitFor('a')).toBe(60);
  t = 30_000;
  expect(limiter.waitFor('a')).toBe(30);
  t = 60_001;
  expect(limiter.waitFor('a')).toBe(0);
});

test('counts exactly as a sliding window, under a large limit and a long stream of requests', () => {
  // The model: every accepted time kept, the window counted afresh for each request.
  const accepted: number[] = [];
  const model = (at: number) => {
    if (accepted.filter((x) => x > at - 1000).length >= 5_000) return false;
    accepted.push(at);
    return true;
  };
  let t = 0;
  const limiter = createRateLimiter(5_000, () => t);
  for (let i = 0; i < 20_000; i++) {
    t = Math.floor(i / 15); // 15 requests a millisecond: the window holds up to 15,000 times
    expect(limiter.take('app') === 0, `request ${i} at ${t} ms`).toBe(model(t));
  }
});
