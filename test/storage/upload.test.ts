// Uploads to a real S3-compatible server (s3rver in its own process): bytes arrive intact in one
// part and in many, refusals fail at once with a clear reason, an unreachable store is retried.
import { getEventListeners } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HeadObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { classifyUploadError, createS3Client, retryDelayMs, uploadFile, uploadWithRetry, UploadError, type UploadProgress } from '../../src/storage/upload.js';
import { startStorageServer, storageBucket, type StorageServer } from '../support/s3rver.js';
import { tempDir } from '../support/temp-dir.js';

let storage: StorageServer;
const dir = tempDir('cloudrec-upload-');
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
function fileOf(name: string, bytes: number) {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(bytes));
  return path;
}

beforeAll(async () => {
  storage = await startStorageServer();
}, 30_000);
afterAll(async () => {
  await storage?.remove();
});

describe('uploadFile', () => {
  test('stores a small file byte for byte, progress reaching its size', async () => {
    const path = fileOf('small.m4a', 150_000);
    const progress: UploadProgress[] = [];
    const result = await uploadFile(storage.settings(), 'p/room/1/small.m4a', path, { onProgress: (p) => progress.push(p) });
    expect(result.bytes).toBe(150_000);
    expect(sha(await storage.download('p/room/1/small.m4a'))).toBe(sha(readFileSync(path)));
    expect(progress.at(-1)).toEqual({ bytesDone: 150_000, bytesTotal: 150_000 });
  });

  test('does not send again an object the store already holds whole; sends a changed file of the same size', async () => {
    const path = fileOf('again.m4a', 90_000);
    const key = 'p/room/2/again.m4a';
    const client = createS3Client(storage.settings());
    const modified = async () => (await client.send(new HeadObjectCommand({ Bucket: storageBucket, Key: key }))).LastModified?.getTime();
    expect(await uploadFile(storage.settings(), key, path)).toEqual({ bytes: 90_000 });
    const first = await modified();
    await new Promise((r) => setTimeout(r, 1_100)); // the store's clock has a resolution of a second
    // As after a crash between the store taking the object and the task recording it.
    expect(await uploadFile(storage.settings(), key, path)).toEqual({ bytes: 90_000, skipped: true });
    expect(await modified()).toBe(first);
    writeFileSync(path, randomBytes(90_000));
    expect(await uploadFile(storage.settings(), key, path)).toEqual({ bytes: 90_000 });
    expect(await modified()).toBeGreaterThan(first!);
    expect(sha(await storage.download(key))).toBe(sha(readFileSync(path)));
    client.destroy();
  });

  test('stores a file larger than a part in several parts, byte for byte', async () => {
    const bytes = 12 * 1024 * 1024 + 123;
    const path = fileOf('large.mp4', bytes);
    const progress: number[] = [];
    await uploadFile(storage.settings(), 'p/room/1/large.mp4', path, { partSizeBytes: 5 * 1024 * 1024, onProgress: (p) => progress.push(p.bytesDone) });
    expect(sha(await storage.download('p/room/1/large.mp4'))).toBe(sha(readFileSync(path)));
    // Three parts: progress was reported along the way, not only at the end.
    expect(progress.filter((b) => b > 0 && b < bytes).length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toBe(bytes);
  });

  test('fails at once, permanently, on a missing bucket, naming it', async () => {
    const path = fileOf('nobucket.mp4', 1000);
    const error = await uploadWithRetry(storage.settings('no-such-bucket'), 'k', path, { baseDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ permanent: true });
    expect((error as Error).message).toMatch(/bucket does not exist \(NoSuchBucket, bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+\)/);
  });

  test('fails at once, permanently, on wrong credentials, without the secret in the reason', async () => {
    const path = fileOf('creds.mp4', 1000);
    const secret = 'wrong-secret-that-must-not-show';
    let retries = 0;
    // s3rver checks the access key id but not SigV4 signatures, so the id is what is wrong here.
    const error = await uploadWithRetry({ ...storage.settings(), access_key_id: 'NOT-A-KEY', secret_access_key: secret }, 'k', path, {
      baseDelayMs: 1,
      onRetry: () => void retries++,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: true });
    expect((error as Error).message).toMatch(/the store does not know the access key id \(InvalidAccessKeyId, bucket "recordings"/);
    expect((error as Error).message).not.toContain(secret);
    expect(retries).toBe(0);
  });

  test('retries while the store is down and succeeds once it is back', async () => {
    const path = fileOf('retry.mp4', 50_000);
    await storage.stop();
    const attempts: number[] = [];
    const upload = uploadWithRetry(storage.settings(), 'p/room/2/retry.mp4', path, {
      retries: 20,
      baseDelayMs: 100,
      maxDelayMs: 400,
      onRetry: (attempt, error) => {
        expect(error.permanent).toBe(false);
        attempts.push(attempt);
      },
    });
    while (attempts.length < 2) await new Promise((r) => setTimeout(r, 20));
    await storage.restart();
    await upload;
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(sha(await storage.download('p/room/2/retry.mp4'))).toBe(sha(readFileSync(path)));
  }, 30_000);

  test('gives up after its retries with a transient error naming the endpoint', async () => {
    const path = fileOf('down.mp4', 1000);
    const error = await uploadWithRetry({ ...storage.settings(), endpoint: 'http://127.0.0.1:9' }, 'k', path, { retries: 2, baseDelayMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ permanent: false });
    expect((error as Error).message).toMatch(/could not reach or write to bucket "recordings" at http:\/\/127\.0\.0\.1:9: ECONNREFUSED/);
  });

  test('leaves no listener on the signal it was given, however many times it retried', async () => {
    const path = fileOf('listeners.mp4', 1000);
    const shutdown = new AbortController();
    let retries = 0;
    for (let i = 0; i < 3; i++) {
      await uploadWithRetry({ ...storage.settings(), endpoint: 'http://127.0.0.1:9' }, 'k', path, {
        retries: 8,
        baseDelayMs: 1,
        maxDelayMs: 2,
        signal: shutdown.signal,
        onRetry: () => void retries++,
      }).catch(() => undefined);
    }
    expect(retries).toBe(24);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  test('stops retrying when aborted', async () => {
    const path = fileOf('abort.mp4', 1000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    let retries = 0;
    const error = await uploadWithRetry({ ...storage.settings(), endpoint: 'http://127.0.0.1:9' }, 'k', path, {
      retries: 50,
      baseDelayMs: 1000,
      signal: controller.signal,
      onRetry: () => void retries++,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'the upload was aborted.' });
    // Aborted in its first backoff (0.5 to 1 s), not after 50 retries.
    expect(retries).toBe(1);
  });
});

test.each([
  ['SignatureDoesNotMatch', 403, true, /refused the secret access key/],
  ['AccessDenied', 403, true, /denied access/],
  ['SlowDown', 503, false, /could not reach or write/],
  ['InternalError', 500, false, /could not reach or write/],
  ['RequestTimeout', 408, false, /could not reach or write/],
  ['PreconditionFailed', 412, true, /refused the upload with HTTP 412/],
])('classifies a store answer %s (HTTP %i) as permanent: %s', (name, status, permanent, message) => {
  const answer = new S3ServiceException({ name, $fault: status < 500 ? 'client' : 'server', $metadata: { httpStatusCode: status }, message: name });
  const failure = classifyUploadError(answer, { endpoint: 'https://s3.example', bucket: 'b', access_key_id: 'a', secret_access_key: 's' });
  expect(failure.permanent).toBe(permanent);
  expect(failure.message).toMatch(message);
});

test('backoff doubles up to the cap, with jitter in the upper half', () => {
  expect([1, 2, 3, 4, 10].map((a) => retryDelayMs(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
  expect([1, 2, 3].map((a) => retryDelayMs(a, 100, 1000, () => 0))).toEqual([50, 100, 200]);
});
