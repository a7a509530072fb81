// `npm run docs`: the docs site, into docs/ or the folder given with --out. One static site,
// publishable as it is under any base path (every link relative, nothing fetched from elsewhere):
//   index.html, zh/index.html                     home, in English and Chinese
//   getting-started.html, zh/getting-started.html the spec's own Getting started section
//   api/en/, api/zh/                               the API reference (Redocly), the Chinese one made
//                                                  by applying openapi/overlays/zh-CN.yaml
//   client/                                        the TypeScript client reference (typedoc)
//   openapi.json, openapi.yaml, sandbox/openapi.json, operations/openapi.json  the spec files
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApiPage, bundleSpec, languages } from './docs-site/api-pages.js';
import { buildClientPages } from './docs-site/client-pages.js';
import { gettingStartedPage, homePage } from './docs-site/pages.js';
import { iconSvg, sitePages } from './docs-site/site-map.js';
import { projectRoot } from './redocly.js';

export { bundleSpec, languages } from './docs-site/api-pages.js';

const write = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

/** Builds the whole site into `root`; returns the pages written, relative to it. */
export function buildDocs(root: string): string[] {
  // What an earlier build left (an older Redoc script under another hash) is not part of this one.
  for (const part of ['api', 'client', 'zh', 'sandbox', 'operations']) rmSync(join(root, part), { recursive: true, force: true });
  for (const language of languages) {
    buildApiPage(language, root);
    const spec = bundleSpec(language.overlay) as unknown as Parameters<typeof homePage>[1];
    write(join(root, sitePages.home[language.code]), homePage(language.code, spec));
    write(join(root, sitePages.gettingStarted[language.code]), gettingStartedPage(language.code, spec));
  }
  buildClientPages(root);
  write(join(root, sitePages.icon), iconSvg);
  copyFileSync(join(projectRoot, 'generated/openapi.json'), join(root, sitePages.specs['openapi.json']));
  copyFileSync(join(projectRoot, 'generated/openapi.yaml'), join(root, sitePages.specs['openapi.yaml']));
  for (const [spec, bundle] of [['sandbox/openapi.json', 'sandbox.json'], ['operations/openapi.json', 'operations.json']] as const) {
    mkdirSync(dirname(join(root, sitePages.specs[spec])), { recursive: true });
    copyFileSync(join(projectRoot, 'generated', bundle), join(root, sitePages.specs[spec]));
  }
  return [sitePages.home.en, sitePages.home.zh, sitePages.gettingStarted.en, sitePages.gettingStarted.zh, sitePages.api.en, sitePages.api.zh, sitePages.client];
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(projectRoot, 'docs') } } });
  const root = resolve(values.out);
  const pages = buildDocs(root);
  console.log(`Docs site in ${root}: open ${join(root, 'index.html')}, or run \`npm run docs:serve\`.\n  ${pages.join('\n  ')}`);
}
