// `npm start`: the main job on embedded defaults. Until the reference server exists this is the
// Prism mock of the spec, with the docs built first and their paths printed.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './redocly.js';

const host = process.env.MOCK_HOST ?? '127.0.0.1';
const port = process.env.MOCK_PORT ?? '4010';

execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), [join(projectRoot, 'scripts/build-docs.ts')], { stdio: 'inherit' });
console.log(`
Starting the Prism mock of the API on http://${host}:${port}. Try:

  curl -s -X POST http://${host}:${port}/v1/cloudRecord -H 'Content-Type: application/json' \\
    -d '{"app_id":"app-1","project_id":"proj-1","channel":"demo-room","sign_key":"k"}'

  # a documented failure, by its example name:
  curl -s -X POST http://${host}:${port}/v1/cloudRecord -H 'Content-Type: application/json' \\
    -H 'Prefer: code=409, example=channel_empty' \\
    -d '{"app_id":"app-1","project_id":"proj-1","channel":"demo-room","sign_key":"k"}'
`);
const prism = spawn(
  join(projectRoot, 'node_modules/.bin/prism'),
  ['mock', '--host', host, '--port', port, join(projectRoot, 'generated/openapi.json')],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => prism.kill(signal));
prism.on('exit', (code) => process.exit(code ?? 0));
