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
