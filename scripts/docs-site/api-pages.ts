// The API reference pages (Redocly's build-docs, one per language) and what is done to what it
// writes: the page says its language, links home and to the other pages of the site, fetches
// nothing from a CDN, and loads Redoc's 2.3 MB script from one shared file instead of carrying
// its own copy, so the second language costs what is its own (the spec and the pre-rendered page).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { redocly } from '../redocly.js';
import { linkFrom, sitePages, withIcon, type Language } from './site-map.js';

/** The API reference's languages: its title, the overlay that makes it, and its site links. */
export const languages = [
  { code: 'en', htmlLang: 'en', title: 'Cloud Recording API', overlay: undefined },
  { code: 'zh', htmlLang: 'zh-CN', title: '云端录制 API', overlay: 'openapi/overlays/zh-CN.yaml' },
] as const;

/** Bundles the public spec into `file`, with `overlay` applied (none: as written). */
export const bundleTo = (file: string, overlay?: string) =>
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

/** The line of site links above the API overview: home, the other language, the client reference. */
function siteLinks(code: Language): string {
  const page = sitePages.api[code];
  const to = (target: string) => linkFrom(page, target);
  return code === 'en'
    ? `[Home](${to(sitePages.home.en)}) · English · [中文](${to(sitePages.api.zh)}) · [TypeScript client reference](${to(sitePages.client)}) · [Getting started](${to(sitePages.gettingStarted.en)})`
    : `[首页](${to(sitePages.home.zh)}) · 中文 · [English](${to(sitePages.api.en)}) · [TypeScript 客户端参考](${to(sitePages.client)}) · [快速开始](${to(sitePages.gettingStarted.zh)})`;
}

/** The attribution badge, drawn inline. */
const redoclyBadge = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16"><text x="0" y="12" font-family="sans-serif" font-size="12" fill="#888">Redocly</text></svg>',
)}`;

/**
 * Moves Redoc's own script out of `html` into `<root>/api/assets/redoc-<hash>.js` (one file for
 * every page that has the same script) and loads it from there. Its two `import.meta` uses (a
 * search worker's path, never taken here) and its closing `export` are replaced, so it runs as a
 * classic script: a module
 * script from another file is refused on file://, a classic one is not.
 */
function shareRedocScript(html: string, root: string, page: string): string {
  const open = '<script type="module">';
  const start = html.indexOf(open);
  const definition = html.indexOf('const __redoc_definition', start);
  if (start < 0 || definition < 0) throw new Error("Redoc's page no longer has the shape this build expects (script, then __redoc_definition)");
  const script = html
    .slice(start + open.length, definition)
    .replaceAll('import.meta.dirname', '""')
    .replaceAll('import.meta.url', 'document.baseURI')
    // Its names are already constants of the page's scope; a classic script exports nothing.
    .replace(/export\s*\{\s*RedocStandalone\s*,\s*hydrate\s*,\s*init\s*\}\s*;/, '');
  const name = `api/assets/redoc-${createHash('sha256').update(script).digest('hex').slice(0, 12)}.js`;
  mkdirSync(dirname(join(root, name)), { recursive: true });
  writeFileSync(join(root, name), script);
  // A deferred classic script runs before the module script after it, whose `hydrate` it defines.
  return `${html.slice(0, start)}<script defer src="${linkFrom(page, name)}"></script>\n      ${open}\n      ${html.slice(definition)}`.replace(
    '</body>',
    `${hashLinks}\n</body>`,
  );
}

/**
 * Redoc routes by the URL's hash (`#/section/errors`) but writes its links as `/section/errors`:
 * opened in a new tab or copied, such a link leaves the page for the host's root. This makes each
 * one the hash link it stands for, as Redoc renders them.
 */
const hashLinks = `<script>
  new MutationObserver(() => {
    for (const a of document.querySelectorAll('a[href^="/"]')) a.setAttribute('href', '#' + a.getAttribute('href'));
  }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['href'] });
</script>`;

/** Builds the API reference page of one language into `<root>/api/<code>/index.html`. */
export function buildApiPage(language: (typeof languages)[number], root: string) {
  const page = sitePages.api[language.code];
  const dir = mkdtempSync(join(tmpdir(), 'cloudrec-docs-'));
  try {
    const bundled = join(dir, 'openapi.json');
    bundleTo(bundled, language.overlay);
    const spec = JSON.parse(readFileSync(bundled, 'utf8')) as { info: { description: string } };
    spec.info.description = `${siteLinks(language.code)}\n\n${spec.info.description}`;
    writeFileSync(bundled, JSON.stringify(spec));
    // --inlineBundle embeds Redoc's script: without it the page loads it from a CDN and is blank offline.
    redocly(['build-docs', bundled, '--output', join(root, page), '--inlineBundle', '--title', language.title]);
    const html = withIcon(readFileSync(join(root, page), 'utf8'), page)
      // Redoc's template says nothing of the language; browsers and screen readers need it.
      .replace(/<html(\s[^>]*)?>/i, `<html lang="${language.htmlLang}">`)
      // Its "API docs by Redocly" badge is an image on Redocly's CDN: offline, a request that fails.
      .replaceAll(/https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(?:-full)?\.svg/g, redoclyBadge);
    writeFileSync(join(root, page), shareRedocScript(html, root, page));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
