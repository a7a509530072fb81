// `npm run docs:serve`: previews the built docs site over HTTP, under a base path of your choice
// (`--base /cloudrec/`), as a static host would serve it. Loopback only; files only under docs/.
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from './redocly.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves `root` under `base` on 127.0.0.1:`port` (0: any free port); resolves with the server and its URL. */
export async function serveDocs(root: string, { port = 8080, base = '/' } = {}): Promise<{ server: Server; url: string }> {
  const prefix = `/${base.replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith(prefix)) return void res.writeHead(404).end('Not under the base path.');
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(404).end();
    try {
      if ((await stat(file)).isDirectory()) {
        if (!path.endsWith('/')) return void res.writeHead(301, { location: `${path}/` }).end();
        file = join(file, 'index.html');
      }
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found.');
    }
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const { port: bound } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${bound}${prefix}` };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, base: { type: 'string', default: '/' }, dir: { type: 'string', default: join(projectRoot, 'docs') } } });
  const root = resolve(values.dir);
  try {
    await stat(join(root, 'index.html'));
  } catch {
    console.error(`No docs site in ${root}: build it first with \`npm run docs\`.`);
    process.exit(2);
  }
  const { url } = await serveDocs(root, { port: Number(values.port), base: values.base });
  console.log(`Docs site on ${url} (Ctrl-C stops it)`);
}
