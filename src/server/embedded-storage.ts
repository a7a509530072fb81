// The demo's object storage: an S3-compatible server (s3rver) in this process, its objects in
// the data folder, so `npm start` records and uploads with nothing else installed.
import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export const embeddedBucket = 'recordings';
/** s3rver's fixed credentials. */
export const embeddedCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedStorage {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts s3rver on `host:port` with its files in `directory` and the demo bucket in it. */
export async function startEmbeddedStorage(host: string, port: number, directory: string): Promise<EmbeddedStorage> {
  mkdirSync(directory, { recursive: true });
  // Loaded only for the demo: a quarter of a second at start-up that a real deployment does not need.
  // @ts-expect-error s3rver ships no type declarations
  const { default: S3rver } = await import('s3rver');
  const s3 = new S3rver({ directory, silent: true, configureBuckets: [{ name: embeddedBucket }] }) as { configureBuckets(): Promise<void>; callback(): RequestListener };
  await s3.configureBuckets();
  // Served by our own listener: s3rver's run() never settles when its port is taken (the error is
  // an event it does not listen to), where a start must say that the port is in use.
  const server = createServer(s3.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
