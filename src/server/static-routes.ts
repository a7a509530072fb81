// The specs (/openapi.json, /openapi.yaml, /sandbox/openapi.json) and the built docs (/docs).
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
  };
  for (const [url, file] of Object.entries(specs)) {
    app.get(url, async (_req, reply) => {
      const { body, type } = file();
      return reply.type(type).send(body);
    });
  }

  // /docs/en/ and /docs/zh/ are the API reference in each language, /docs/client/ the client's.
  const docsRoot = resolve(docsDir);
  const folders: Record<string, string> = { en: 'api/en', zh: 'api/zh', client: 'client' };
  app.get('/docs', async (_req, reply) => reply.redirect('/docs/en/'));
  app.get('/docs/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const [first = '', ...others] = rest.split('/');
    const folder = folders[first];
    if (folder && others.length === 0) return reply.redirect(`/docs/${first}/`);
    const file = folder ? fileUnder(join(docsRoot, folder), others.join('/')) : undefined;
    if (!file) {
      return reply.code(404).send({
        code: 'not_found',
        message: `No docs page at ${req.url}. Build the docs with \`npm run docs\`; pages: /docs/en/, /docs/zh/, /docs/client/.`,
      });
    }
    return reply.type(file.type).send(file.body);
  });
}
