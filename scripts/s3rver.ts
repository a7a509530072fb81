// A standalone S3-compatible server (s3rver) for local runs and tests:
//   tsx scripts/s3rver.ts --port 9000 --directory .data/s3 --bucket recordings [--bucket more]
// Credentials are s3rver's fixed S3RVER / S3RVER. Prints one "listening on" line when ready.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9000' },
    directory: { type: 'string', default: '.data/s3' },
    bucket: { type: 'string', multiple: true, default: ['recordings'] },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('Usage: tsx scripts/s3rver.ts [--host 127.0.0.1] [--port 9000] [--directory .data/s3] [--bucket recordings]...');
  process.exit(0);
}
mkdirSync(values.directory, { recursive: true });
const server = new S3rver({
  address: values.host,
  port: Number(values.port),
  directory: values.directory,
  silent: true,
  configureBuckets: values.bucket.map((name) => ({ name })),
});
const address = (await server.run()) as AddressInfo;
console.log(`s3rver listening on http://${values.host}:${address.port} (buckets: ${values.bucket.join(', ')}; credentials S3RVER/S3RVER)`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
