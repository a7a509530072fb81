// The sandbox publishes media files from its media folder only: by name, inside it, after symlinks.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { defaultConfig } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/database.js';
import { MediaFileError, resolveMediaFile } from '../../src/server/media-folder.js';
import { tempDir } from '../support/temp-dir.js';

const root = tempDir('cloudrec-media-');
const mediaDir = join(root, 'media');
mkdirSync(join(mediaDir, 'talks'), { recursive: true });
writeFileSync(join(mediaDir, 'clip.mp4'), 'not really a video');
writeFileSync(join(mediaDir, 'talks', 'one.mp4'), 'x');
writeFileSync(join(root, 'secret.txt'), 'outside');
symlinkSync(join(root, 'secret.txt'), join(mediaDir, 'link-out.mp4'));
symlinkSync(join(mediaDir, 'clip.mp4'), join(mediaDir, 'link-in.mp4'));

describe('resolveMediaFile', () => {
  test.each(['clip.mp4', 'talks/one.mp4', 'link-in.mp4'])('accepts %s, a file inside the folder', (name) => {
    expect(resolveMediaFile(mediaDir, name).startsWith(mediaDir)).toBe(true);
  });

  test.each([
    ['/etc/passwd', /without "." or ".." parts or a leading "\/"/],
    ['../secret.txt', /without "." or ".." parts/],
    ['talks/../../secret.txt', /without "." or ".." parts/],
    ['link-out.mp4', /leads out of the media folder/],
    ['missing.mp4', /there is no file "missing.mp4"/],
    ['talks', /is not a regular file/],
    ['http://127.0.0.1:9/x.mp4', /there is no file/],
  ])('refuses %s, naming the rule', (name, rule) => {
    expect(() => resolveMediaFile(mediaDir, name)).toThrow(MediaFileError);
    expect(() => resolveMediaFile(mediaDir, name)).toThrow(rule);
  });
});

test('the sandbox refuses a user publishing a file outside the media folder with a 400 naming the rule', async () => {
  const { app } = buildApp({ config: { ...defaultConfig, mediaDir, logLevel: 'silent' }, db: openDatabase(':memory:') });
  const join_ = (media_file: string) =>
    app.inject({ method: 'PUT', url: '/sandbox/apps/a/channels/c/users/1', headers: { 'content-type': 'application/json' }, payload: { media_file } });
  for (const name of ['/etc/passwd', '../secret.txt', 'link-out.mp4', 'missing.mp4']) {
    const answer = await join_(name);
    expect(answer.statusCode, name).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'invalid_parameter', message: expect.stringMatching(/^media_file: /) });
    expect(answer.body).not.toContain('outside');
  }
  expect((await join_('clip.mp4')).statusCode).toBe(200);
  await app.close();
});
