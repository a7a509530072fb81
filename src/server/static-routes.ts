// The specs (/openapi.json, /openapi.yaml, /sandbox/openapi.json, /operations/openapi.json) and the built docs (/docs).
import { readFileSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-root.js';
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.yaml': 'application/yaml',
};

/** The file under `root` that `relative` names, or undefined when it escapes `root` or is absent. */
function fileUnder(root: string, relative: string): { body: Buffer; type: string } | undefined {
  const path = normalize(join(root, relative.endsWith('/') || relative === '' ? `${relative}index.html` : relative));
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  try {
    return { body: readFileSync(path), type: contentTypes[extname(path)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}

export function registerStaticRoutes(app: FastifyInstance, docsDir: string) {
  const generated = (file: string, type: string) => () => ({ body: readFileSync(join(packageRoot, 'generated', file)), type });
  const specs: Record<string, () => { body: Buffer; type: string }> = {
    '/openapi.json': generated('openapi.json', 'application/json'),
    '/openapi.yaml': generated('openapi.yaml', 'application/yaml'),
    '/sandbox/openapi.json': generated('sandbox.json', 'application/json'),
    '/operations/openapi.json': generated('operations.json', 'application/json'),
  };
  for (const [url, file] of Object.entries(specs)) {
    app.get(url, async (_req, reply) => {
      const { body, type } = file();
      return reply.type(type).send(body);
    });
  }

  // /docs/ is the docs site as `npm run docs` builds it (every link in it relative). The addresses
  // of the API pages before the site had a home page, /docs/en/ and /docs/zh/, lead to them still.
  const docsRoot = resolve(docsDir);
  const moved: Record<string, string> = { '/docs': '/docs/', '/docs/en': '/docs/api/en/', '/docs/en/': '/docs/api/en/', '/docs/zh': '/docs/api/zh/', '/docs/zh/': '/docs/api/zh/' };
  for (const [from, to] of Object.entries(moved)) app.get(from, async (_req, reply) => reply.redirect(to));
  app.get('/docs/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const file = fileUnder(docsRoot, rest);
    // A folder asked for without its slash: the page is its index, but its relative links need the slash.
    if (!file && !rest.endsWith('/') && fileUnder(docsRoot, `${rest}/`)) return reply.redirect(`/docs/${rest}/`);
    if (!file) {
      return reply.code(404).send({
        code: 'not_found',
        message: `No docs page at ${req.url}. Build the docs with \`npm run docs\`; the site starts at /docs/.`,
      });
    }
    return reply.type(file.type).send(file.body);
  });
}
