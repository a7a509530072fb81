// Multipart uploads that would be left in the bucket: an abort the store refuses is tried again,
// and a stale upload of the same key (an earlier run killed, or its abort refused for good) is
// aborted before the key is uploaded again. s3rver implements neither listing nor aborting
// multipart uploads, so these run against a store of the test's own, at the S3 client's HTTP
// layer, answering as S3 documents it.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { uploadFile, UploadError } from '../../src/storage/upload.js';
import { tempDir } from '../support/temp-dir.js';

const settings = { endpoint: 'http://store.test', region: 'us-east-1', bucket: 'recordings', access_key_id: 'a', secret_access_key: 's', prefix: '', force_path_style: true };
const partSize = 5 * 1024 * 1024;
const path = join(tempDir('cloudrec-mpu-'), 'big.mp4');
writeFileSync(path, randomBytes(partSize + 1000)); // two parts

interface StoreScript {
  stale?: string[];
  completeFails?: boolean;
  abortFailures?: number;
}

/** An S3 store for one key, in memory, speaking the multipart API; it records what was aborted. */
function scriptedStore(script: StoreScript) {
  const aborted: string[] = [];
  const requests: string[] = [];
  let abortsRefused = 0;
  let stored: number | undefined;
  const xml = (statusCode: number, body: string) => ({ response: { statusCode, headers: { 'content-type': 'application/xml' }, body: Readable.from([body]) } });
  const empty = (statusCode: number, headers: Record<string, string> = {}) => ({ response: { statusCode, headers, body: Readable.from([]) } });
  const fail = (statusCode: number, code: string) => xml(statusCode, `<Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  const requestHandler = {
    async handle(request: { method: string; path: string; query?: Record<string, string | null>; body?: unknown }) {
      if (request.body && typeof (request.body as Readable).resume === 'function') for await (const _ of request.body as Readable);
      const q = request.query ?? {};
      const kind = `${request.method} ${'uploads' in q ? '?uploads' : 'uploadId' in q ? ('partNumber' in q ? '?part' : '?uploadId') : ''}`;
      requests.push(kind);
      switch (kind) {
        case 'HEAD ':
          return stored === undefined ? empty(404) : empty(200, { 'content-length': String(stored) });
        case 'GET ?uploads':
          return xml(200, `<ListMultipartUploadsResult><Bucket>recordings</Bucket>${(script.stale ?? []).filter((id) => !aborted.includes(id)).map((id) => `<Upload><Key>big.mp4</Key><UploadId>${id}</UploadId></Upload>`).join('')}</ListMultipartUploadsResult>`);
        case 'POST ?uploads':
          return xml(200, '<InitiateMultipartUploadResult><Bucket>recordings</Bucket><Key>big.mp4</Key><UploadId>new-1</UploadId></InitiateMultipartUploadResult>');
        case 'PUT ?part':
          return empty(200, { etag: `"etag-${q.partNumber}"` });
        case 'POST ?uploadId':
          if (script.completeFails) return fail(500, 'InternalError');
          stored = partSize + 1000;
          return xml(200, '<CompleteMultipartUploadResult><Bucket>recordings</Bucket><Key>big.mp4</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>');
        case 'DELETE ?uploadId':
          if (abortsRefused < (script.abortFailures ?? 0)) {
            abortsRefused += 1;
            return fail(503, 'SlowDown');
          }
          aborted.push(String(q.uploadId));
          return empty(204);
        default:
          return fail(501, 'NotImplemented');
      }
    },
  };
  const createClient = () =>
    new S3Client({ endpoint: settings.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1, requestHandler });
  return { aborted, requests, createClient };
}

test('a failed multipart upload whose abort the store refuses once is aborted on the next try', async () => {
  const store = scriptedStore({ completeFails: true, abortFailures: 1 });
  const failure = await uploadFile(settings, 'big.mp4', path, { partSizeBytes: partSize, createClient: store.createClient }).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(UploadError);
  expect(store.aborted).toEqual(['new-1']);
  expect(store.requests.filter((r) => r === 'DELETE ?uploadId')).toHaveLength(2);
});

test('an abort the store never takes is reported as left over, for a later start to clean up', async () => {
  const store = scriptedStore({ completeFails: true, abortFailures: 99 });
  const leftovers: string[] = [];
  await uploadFile(settings, 'big.mp4', path, { partSizeBytes: partSize, createClient: store.createClient, onLeftover: (id) => leftovers.push(id) }).catch(() => {});
  expect(store.aborted).toEqual([]);
  expect(leftovers).toEqual(['new-1']);
}, 20_000);

test("a stale upload of the key, left by an earlier run, is aborted before the key is uploaded again", async () => {
  const store = scriptedStore({ stale: ['old-1', 'old-2'] });
  expect(await uploadFile(settings, 'big.mp4', path, { partSizeBytes: partSize, createClient: store.createClient })).toEqual({ bytes: partSize + 1000 });
  expect(store.aborted).toEqual(['old-1', 'old-2']);
  expect(store.requests.indexOf('GET ?uploads')).toBeLessThan(store.requests.indexOf('POST ?uploads'));
});
