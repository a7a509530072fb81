// `npm run docs`: the API reference (Redocly, one self-contained HTML page) and the client
// reference (typedoc), into docs/ or the folder given with --out.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot, redocly } from './redocly.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: join(projectRoot, 'docs') } } });
const out = resolve(values.out);
const apiPage = join(out, 'api/index.html');
const clientPage = join(out, 'client/index.html');

// --inlineBundle embeds Redoc's script: without it the page loads it from a CDN and is blank offline.
redocly(['build-docs', 'cloudrec', '--output', apiPage, '--inlineBundle', '--title', 'Cloud Recording API']);
execFileSync(join(projectRoot, 'node_modules/.bin/typedoc'), ['--logLevel', 'Warn', '--out', join(out, 'client')], {
  cwd: projectRoot,
  stdio: 'inherit',
});
console.log(`API reference:    ${apiPage}\nClient reference: ${clientPage}`);
