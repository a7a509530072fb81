// A real S3-compatible server (s3rver) in its own process on a free loopback port, its objects
// in a temp folder; stopped by its process id, and restartable on the same port and folder.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client, type StorageSettings } from '../../src/storage/upload.js';
import { freePort } from './free-port.js';
import { projectRoot } from './prism.js';
import { startProcess, type RunningProcess } from './process.js';

export interface StorageServer {
  endpoint: string;
  /** Storage settings for `bucket` with s3rver's credentials. */
  settings(bucket?: string): Required<StorageSettings>;
  /** The object's bytes. */
  download(key: string, bucket?: string): Promise<Buffer>;
  stop(): Promise<void>;
  /** Starts it again on the same port and folder (after stop). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

export const storageBucket = 'recordings';

export async function startStorageServer(buckets: string[] = [storageBucket]): Promise<StorageServer> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'cloudrec-s3-'));
  const launch = () =>
    startProcess(
      join(projectRoot, 'node_modules/.bin/tsx'),
      [join(projectRoot, 'scripts/s3rver.ts'), '--port', String(port), '--directory', directory, ...buckets.flatMap((b) => ['--bucket', b])],
      { ready: /s3rver listening on/ },
    );
  let running: RunningProcess | undefined = await launch();
  const endpoint = `http://127.0.0.1:${port}`;
  const settings = (bucket = storageBucket): Required<StorageSettings> => ({
    endpoint,
    region: 'us-east-1',
    bucket,
    access_key_id: 'S3RVER',
    secret_access_key: 'S3RVER',
    prefix: '',
    force_path_style: true,
  });
  return {
    endpoint,
    settings,
    async download(key, bucket = storageBucket) {
      const client = createS3Client(settings(bucket));
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await object.Body!.transformToByteArray());
      } finally {
        client.destroy();
      }
    },
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async restart() {
      running ??= await launch();
    },
    async remove() {
      await running?.stop();
      running = undefined;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
