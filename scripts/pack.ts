// `npm run pack`: the two publishable packages, assembled from the build and packed into
// dist/packages/ (one .tgz each). Their manifests are written here, from the root package.json
// and the spec's version, so nothing is copied by hand:
//   cloudrec         the client, the types and the bundled spec; openapi-fetch its only dependency;
//                    ESM and CommonJS, each with its types.
//   cloudrec-server  the reference server, the recording pipeline and the `cloudrec` command,
//                    compiled to JavaScript, with the built docs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apiVersion } from '../generated/response-rules.js';
import { projectRoot } from './redocly.js';

const root = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
  description: string;
  license: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const tsc = join(projectRoot, 'node_modules/.bin/tsc');
const common = { version: apiVersion, license: root.license, author: 'cloudrec developers', keywords: ['cloud-recording', 'openapi', 'rtc'] };

/** `{ import, require }` conditions of one entry point, each with its own types first. */
const dual = (file: string) => ({
  import: { types: `./esm/src/${file}.d.ts`, default: `./esm/src/${file}.js` },
  require: { types: `./cjs/src/${file}.d.ts`, default: `./cjs/src/${file}.js` },
  default: `./esm/src/${file}.js`,
});

function clientPackage(dir: string) {
  execFileSync(tsc, ['-p', 'tsconfig.client.json', '--outDir', join(dir, 'esm')], { cwd: projectRoot, stdio: 'inherit' });
  execFileSync(tsc, ['-p', 'tsconfig.client-cjs.json', '--outDir', join(dir, 'cjs')], { cwd: projectRoot, stdio: 'inherit' });
  // Node and TypeScript read a folder's module format from the nearest package.json.
  writeFileSync(join(dir, 'cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  for (const file of ['openapi.json', 'openapi.yaml']) copyFileSync(join(projectRoot, 'generated', file), join(dir, file));
  copyFileSync(join(projectRoot, 'src/client/README.md'), join(dir, 'README.md'));
  const manifest = {
    name: 'cloudrec',
    ...common,
    description: 'Typed TypeScript client, types and OpenAPI 3.1 spec of the cloud-recording API (POST /v1/cloudRecord).',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': dual('index'),
      './types': dual('types'),
      './webhooks': dual('webhooks'),
      './openapi.json': './openapi.json',
      './openapi.yaml': './openapi.yaml',
      './package.json': './package.json',
    },
    // For resolvers that do not read `exports` (TypeScript's node10, old bundlers).
    main: './cjs/src/index.js',
    module: './esm/src/index.js',
    types: './cjs/src/index.d.ts',
    typesVersions: { '*': { types: ['./cjs/src/types.d.ts'], webhooks: ['./cjs/src/webhooks.d.ts'] } },
    files: ['esm', 'cjs', 'openapi.json', 'openapi.yaml', 'CHANGELOG.md'],
    engines: { node: '>=18' },
    dependencies: { 'openapi-fetch': root.dependencies['openapi-fetch'] },
  };
  return manifest;
}

/**
 * The README as the package ships it: a link to a file of the repository that the package does not
 * hold (openapi/DECISIONS.md, say) keeps its words and loses its target, which would lead nowhere.
 */
export function shippedReadme(readme: string, packageDir: string): string {
  return readme.replace(/\[([^\]]+)\]\(([^)#:]+)(#[^)]*)?\)/g, (link, label: string, target: string) =>
    existsSync(join(packageDir, target)) || ['CHANGELOG.md', 'LICENSE'].includes(target) ? link : label,
  );
}

function serverPackage(dir: string, docsDir: string) {
  execFileSync(tsc, ['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist'), '--sourceMap', 'false'], { cwd: projectRoot, stdio: 'inherit' });
  cpSync(join(projectRoot, 'bin'), join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'generated'));
  for (const file of ['openapi.json', 'openapi.yaml', 'sandbox.json', 'operations.json']) copyFileSync(join(projectRoot, 'generated', file), join(dir, 'generated', file));
  cpSync(docsDir, join(dir, 'docs'), { recursive: true });
  writeFileSync(join(dir, 'README.md'), shippedReadme(readFileSync(join(projectRoot, 'README.md'), 'utf8'), dir));
  const prism = '@stoplight/prism-cli';
  return {
    name: 'cloudrec-server',
    ...common,
    description: `${root.description} The reference server, the recording pipeline and the cloudrec command.`,
    type: 'module',
    bin: { cloudrec: 'bin/cloudrec.js' },
    exports: { './server': './dist/src/server/main.js', './conformance': { types: './dist/src/conformance/index.d.ts', default: './dist/src/conformance/index.js' }, './package.json': './package.json' },
    files: ['bin', 'dist', 'generated', 'docs', 'CHANGELOG.md'],
    // node:sqlite without a flag (22.13); the workspace's own range only says which Node can run npm
    // here, since it brings its own Node (the `node` devDependency).
    engines: { node: '>=22.13' },
    dependencies: root.dependencies,
    // `cloudrec mock` runs Prism when the project has it; nothing else needs it.
    peerDependencies: { [prism]: root.devDependencies[prism] },
    peerDependenciesMeta: { [prism]: { optional: true } },
  };
}

/**
 * Assembles and packs both packages; returns the tarballs' paths. The server package ships the
 * docs site built now, or the one already in `docsDir` when `buildDocs` is false.
 */
export function pack({ out = join(projectRoot, 'dist/packages'), buildDocs = true, docsDir = join(projectRoot, 'docs') } = {}): string[] {
  const stage = join(projectRoot, 'dist/stage');
  rmSync(stage, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // The server package ships the built docs; a caller that has just built them may reuse them.
  if (buildDocs || !existsSync(join(docsDir, 'index.html'))) {
    execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), ['scripts/build-docs.ts', '--out', docsDir], { cwd: projectRoot, stdio: 'inherit' });
  }
  return [
    ['cloudrec', clientPackage],
    ['cloudrec-server', serverPackage],
  ].map(([name, assemble]) => {
    const dir = join(stage, name as string);
    mkdirSync(dir, { recursive: true });
    const manifest = (assemble as (dir: string, docs: string) => object)(dir, docsDir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    copyFileSync(join(projectRoot, 'CHANGELOG.md'), join(dir, 'CHANGELOG.md'));
    copyFileSync(join(projectRoot, 'LICENSE'), join(dir, 'LICENSE'));
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as { filename: string }[];
    return join(out, packed!.filename);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { 'reuse-docs': { type: 'boolean', default: false } } });
  for (const tarball of pack({ buildDocs: !values['reuse-docs'] })) console.log(`packed ${tarball}`);
}
