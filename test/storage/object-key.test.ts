// Object keys for any channel name: one segment per part, decodable, never a path trick.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { objectKey, parseObjectKey } from '../../src/storage/object-key.js';

const key = (channel: string, prefix = '') => objectKey({ prefix, projectId: 'proj', channel, taskId: 12, fileName: 'mix.mp4' });

describe('objectKey', () => {
  test.each([
    ['room-1', '', 'proj/room-1/12/mix.mp4'],
    ['room-1', 'recordings/2026', 'recordings/2026/proj/room-1/12/mix.mp4'],
    ['a room', '', 'proj/a%20room/12/mix.mp4'],
    ['a/b', '', 'proj/a%2Fb/12/mix.mp4'],
    ['..', '', 'proj/%2E%2E/12/mix.mp4'],
    ['.', '', 'proj/%2E/12/mix.mp4'],
    ['../../etc', '', 'proj/..%2F..%2Fetc/12/mix.mp4'],
    ['100%', '', 'proj/100%25/12/mix.mp4'],
    ['q?x#y', '', 'proj/q%3Fx%23y/12/mix.mp4'],
    ['会议室', '', 'proj/%E4%BC%9A%E8%AE%AE%E5%AE%A4/12/mix.mp4'],
  ])('puts channel %j under prefix %j as %s', (channel, prefix, expected) => {
    expect(key(channel, prefix)).toBe(expected);
  });

  test('rejects an empty part and a task id that is not a positive integer', () => {
    expect(() => key('')).toThrow(/cannot be empty/);
    expect(() => objectKey({ prefix: '', projectId: 'p', channel: 'c', taskId: 0, fileName: 'f' })).toThrow(/positive integer/);
  });

  test('for any channel and project: exactly four segments after the prefix, none `.` or `..`, and it decodes back', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64, unit: 'binary' }), fc.string({ minLength: 1, maxLength: 64 }), (channel, projectId) => {
        const made = objectKey({ prefix: 'pre', projectId, channel, taskId: 7, fileName: 'uid-1-audio.m4a' });
        const segments = made.split('/');
        expect(segments).toHaveLength(5);
        for (const s of segments) expect(['', '.', '..']).not.toContain(s);
        expect(made).not.toMatch(/[\u0000-\u001f\u007f\\]/);
        expect(parseObjectKey(made)).toEqual({ prefix: 'pre', projectId, channel, taskId: 7, fileName: 'uid-1-audio.m4a' });
      }),
      { numRuns: 2000 },
    );
  });
});
