// `npm start`: the main job on embedded defaults. Builds the docs (served at /docs), then runs
// the reference server with its demo project, channel and embedded storage; its banner says
// what to paste to start a recording.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runServer } from '../src/server/main.js';
import { projectRoot } from './redocly.js';

execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), [join(projectRoot, 'scripts/build-docs.ts')], { stdio: 'inherit' });
await runServer();
