// One file to a project's S3-compatible bucket: multipart above the part size, confirmed by
// reading the object's size back, retried with backoff while the failure can pass, and failing
// at once with a clear reason when the store refuses (credentials, bucket, permissions).
import { setTimeout as delay } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { SchemaStorageSettings as StorageSettings } from '../../generated/sandbox-types.js';
import { UploadError } from './upload-error.js';

export type { StorageSettings };

/** Named defaults of the retry policy and multipart size. */
export const uploadDefaults = {
  /** Attempts after the first one. */
  retries: 5,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  /** S3's smallest part is 5 MiB; files up to one part go in a single PUT. */
  partSizeBytes: 8 * 1024 * 1024,
};

export interface UploadProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  partSizeBytes?: number;
  /** Makes the S3 client (tests give one that speaks to a store of their own). */
  createClient?: (settings: StorageSettings) => S3Client;
  /** Told of multipart uploads that could not be aborted (they stay in the bucket until a later start). */
  onLeftover?: (uploadId: string, error: unknown) => void;
}

/** Aborts of a failed multipart upload are tried this many times, this far apart, before it is left for the next start. */
const abortAttempts = 3;
const abortDelayMs = 500;

/** Aborts multipart upload `uploadId` of `key`, trying again a few times; false when the store would not take it. */
async function abortUpload(client: S3Client, bucket: string, key: string, uploadId: string, onLeftover?: UploadOptions['onLeftover']) {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return true; // gone already
      if (attempt >= abortAttempts) {
        onLeftover?.(uploadId, error);
        return false;
      }
      await new Promise((r) => setTimeout(r, abortDelayMs * attempt));
    }
  }
}

/**
 * Aborts the multipart uploads of `key` an earlier run left in the bucket (its process killed, or
 * its abort refused). A store that cannot list them (s3rver) has nothing found.
 */
async function abortStaleUploads(client: S3Client, bucket: string, key: string, onLeftover?: UploadOptions['onLeftover']) {
  let uploads: { Key?: string; UploadId?: string }[];
  try {
    uploads = (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? [];
  } catch {
    return;
  }
  for (const upload of uploads) {
    if (upload.Key === key && upload.UploadId) await abortUpload(client, bucket, key, upload.UploadId, onLeftover);
  }
}

export { UploadError } from './upload-error.js';

// Error codes by which a store says no for good: credentials, bucket, permissions.
const refusals: Record<string, string> = {
  InvalidAccessKeyId: 'the store does not know the access key id',
  SignatureDoesNotMatch: 'the store refused the secret access key (the signature does not match)',
  AccessDenied: 'the store denied access to the bucket',
  NoSuchBucket: 'the bucket does not exist',
  InvalidBucketName: 'the bucket name is not valid',
  AllAccessDisabled: 'all access to the bucket is disabled',
  AccountProblem: "the store reports a problem with the account",
};

/** An S3 client for the settings; the checksum settings keep s3rver from storing corrupted objects. */
export function createS3Client(settings: StorageSettings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region ?? 'us-east-1',
    forcePathStyle: settings.force_path_style ?? true,
    credentials: { accessKeyId: settings.access_key_id, secretAccessKey: settings.secret_access_key },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Retries are ours (below), so a refusal is not retried by the SDK first.
    maxAttempts: 1,
  });
}

/** The error as an UploadError: a sentence naming the bucket and endpoint, never a secret. */
export function classifyUploadError(error: unknown, settings: StorageSettings): UploadError {
  if (error instanceof UploadError) return error;
  const where = `bucket "${settings.bucket}" at ${settings.endpoint}`;
  const named = error as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = named.Code ?? named.name ?? '';
  if (code in refusals) return new UploadError(`${refusals[code]} (${code}, ${where}).`, true);
  const status = named.$metadata?.httpStatusCode;
  if (error instanceof S3ServiceException && status && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new UploadError(`the store refused the upload with HTTP ${status} ${code} (${where}).`, true);
  }
  const cause = named.code ?? (error as { cause?: { code?: string } }).cause?.code;
  const detail = cause ? `${cause}${named.message ? `: ${named.message}` : ''}` : (named.message ?? String(error));
  return new UploadError(`could not reach or write to ${where}: ${detail}`, false);
}

/** The file's SHA-256, hex. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** True when the store already holds this very file at `key`: the same size and the SHA-256 we sent with it. */
async function alreadyStored(client: S3Client, bucket: string, key: string, bytes: number, sha256: string): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength === bytes && head.Metadata?.sha256 === sha256;
  } catch {
    return false; // not there (or not readable): upload it
  }
}

/**
 * Uploads the file at `path` to `key`, confirms the stored size, and resolves with it. An object
 * the store already holds whole (a crash after the store took it, before the task recorded it)
 * is not sent again: `skipped`.
 */
export async function uploadFile(
  settings: StorageSettings,
  key: string,
  path: string,
  options: UploadOptions = {},
): Promise<{ bytes: number; skipped?: boolean }> {
  const bytesTotal = statSync(path).size;
  const client = (options.createClient ?? createS3Client)(settings);
  const partSize = options.partSizeBytes ?? uploadDefaults.partSizeBytes;
  let upload: Upload | undefined;
  try {
    const sha256 = await sha256Of(path);
    if (await alreadyStored(client, settings.bucket, key, bytesTotal, sha256)) {
      options.onProgress?.({ bytesDone: bytesTotal, bytesTotal });
      return { bytes: bytesTotal, skipped: true };
    }
    if (bytesTotal > partSize) await abortStaleUploads(client, settings.bucket, key, options.onLeftover);
    upload = new Upload({
      client,
      params: { Bucket: settings.bucket, Key: key, Body: createReadStream(path), ContentLength: bytesTotal, Metadata: { sha256 } },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => options.onProgress?.({ bytesDone: Math.min(p.loaded ?? 0, bytesTotal), bytesTotal }));
    const abort = () => void upload?.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      if (options.signal?.aborted) throw new UploadError('the upload was aborted.', false);
      await upload.done();
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
    const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    if (head.ContentLength !== bytesTotal) {
      throw new UploadError(`the store holds ${head.ContentLength} bytes of ${key}, not the ${bytesTotal} sent (bucket "${settings.bucket}").`, false);
    }
    options.onProgress?.({ bytesDone: bytesTotal, bytesTotal });
    return { bytes: bytesTotal };
  } catch (error) {
    // lib-storage aborts a failed multipart upload once; if the store refused that, try again.
    const leftover = (upload as unknown as { uploadId?: string; abortMultipartUploadCommand?: unknown } | undefined);
    if (leftover?.uploadId && leftover.abortMultipartUploadCommand) {
      await abortUpload(client, settings.bucket, key, leftover.uploadId, options.onLeftover);
    }
    if (options.signal?.aborted) throw new UploadError('the upload was aborted.', false);
    throw classifyUploadError(error, settings);
  } finally {
    client.destroy();
  }
}

/** The delay before retry `attempt` (1-based): exponential, capped, with full jitter. */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * {@link uploadFile} with retries: transient failures (network, 5xx, throttling) are retried with
 * exponential backoff; a refusal is thrown at once as a permanent UploadError.
 */
export async function uploadWithRetry(
  settings: StorageSettings,
  key: string,
  path: string,
  options: UploadOptions & {
    retries?: number;
    baseDelayMs?: number;
    maxDelayMs?: number;
    onRetry?: (attempt: number, error: UploadError, delayMs: number) => void;
  } = {},
): Promise<{ bytes: number; skipped?: boolean }> {
  const { retries = uploadDefaults.retries, baseDelayMs = uploadDefaults.baseDelayMs, maxDelayMs = uploadDefaults.maxDelayMs } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadFile(settings, key, path, options);
    } catch (error) {
      const failure = classifyUploadError(error, settings);
      if (failure.permanent || attempt > retries || options.signal?.aborted) throw failure;
      const delayMs = retryDelayMs(attempt, baseDelayMs, maxDelayMs);
      options.onRetry?.(attempt, failure, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

// Node's timer takes its abort listener off the signal when it fires: one signal (the server's
// shutdown) serves every retry of every upload without gathering listeners.
const sleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, { signal }).catch(() => {
    throw new UploadError('the upload was aborted.', false);
  });
