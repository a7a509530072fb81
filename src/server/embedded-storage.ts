// The demo's object storage: an S3-compatible server (s3rver) in this process, its objects in
// the data folder, so `npm start` records and uploads with nothing else installed.
import { mkdirSync } from 'node:fs';
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
  const server = new S3rver({ address: host, port, directory, silent: true, configureBuckets: [{ name: embeddedBucket }] });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}`,
    close: () => server.close(),
  };
}
