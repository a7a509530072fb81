import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, type RunningProcess } from './process.js';

export const projectRoot = join(import.meta.dirname, '../..');

/** A Prism mock of the bundled spec on a free loopback port. */
export async function startPrism(): Promise<{ baseUrl: string; process: RunningProcess }> {
  const port = await freePort();
  // The real Prism binary, not npx: killing npx leaves Prism listening (toolchain.md, trap 5).
  const prism = await startProcess(
    join(projectRoot, 'node_modules/.bin/prism'),
    ['mock', '--host', '127.0.0.1', '--port', String(port), join(projectRoot, 'generated/openapi.json')],
    { ready: /Prism is listening/ },
  );
  return { baseUrl: `http://127.0.0.1:${port}`, process: prism };
}
