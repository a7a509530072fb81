// `npm run docs`: the API reference in English and Chinese (Redocly, one self-contained HTML page
// each) and the client reference (typedoc), into docs/ or the folder given with --out.
// English comes from the spec as written; Chinese from the spec with openapi/overlays/zh-CN.yaml
// applied by `redocly bundle`, so the overlay changes only text.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot, redocly } from './redocly.js';

/** The API reference's languages: where each page goes, its title, and the overlay that makes it. */
export const languages = [
  { code: 'en', htmlLang: 'en', title: 'Cloud Recording API', overlay: undefined },
  { code: 'zh', htmlLang: 'zh-CN', title: '云端录制 API', overlay: 'openapi/overlays/zh-CN.yaml' },
] as const;

/** Bundles the public spec into `file`, with `overlay` applied (none: as written). */
const bundleTo = (file: string, overlay?: string) =>
  redocly(['bundle', 'cloudrec', ...(overlay ? ['--overlay', overlay] : []), '--output', file]);

/** The bundled public spec with `overlay` applied (none: as written), as parsed JSON. */
export function bundleSpec(overlay?: string): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudrec-bundle-'));
  try {
    bundleTo(join(dir, 'openapi.json'), overlay);
    return JSON.parse(readFileSync(join(dir, 'openapi.json'), 'utf8')) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The attribution badge, drawn inline. */
const redoclyBadge = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16"><text x="0" y="12" font-family="sans-serif" font-size="12" fill="#888">Redocly</text></svg>',
)}`;

function buildApiPage(language: (typeof languages)[number], page: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cloudrec-docs-'));
  try {
    const bundled = join(dir, 'openapi.json');
    bundleTo(bundled, language.overlay);
    // --inlineBundle embeds Redoc's script: without it the page loads it from a CDN and is blank offline.
    redocly(['build-docs', bundled, '--output', page, '--inlineBundle', '--title', language.title]);
    const html = readFileSync(page, 'utf8')
      // Redoc's template says nothing of the language; browsers and screen readers need it.
      .replace(/<html(\s[^>]*)?>/i, `<html lang="${language.htmlLang}">`)
      // Its "API docs by Redocly" badge is an image on Redocly's CDN: offline, a request that fails.
      .replaceAll(/https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(?:-full)?\.svg/g, redoclyBadge);
    writeFileSync(page, html);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(projectRoot, 'docs') } } });
  const out = resolve(values.out);
  const pages = languages.map((language) => {
    const page = join(out, 'api', language.code, 'index.html');
    buildApiPage(language, page);
    return page;
  });
  execFileSync(join(projectRoot, 'node_modules/.bin/typedoc'), ['--logLevel', 'Warn', '--out', join(out, 'client')], {
    cwd: projectRoot,
    stdio: 'inherit',
  });
  console.log(`API reference:    ${pages.join('\n                  ')}\nClient reference: ${join(out, 'client/index.html')}`);
}
