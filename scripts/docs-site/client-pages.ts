// The client reference (typedoc) as a page of the site: every page links home, and its icons
// come from the sprite typedoc's own icons.js puts in the page, not from assets/icons.svg, which
// a browser refuses to read from file:// (one console error per icon).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../redocly.js';
import { linkFrom, sitePages, withIcon } from './site-map.js';

/** The link typedoc writes for "home" (typedoc.config.mjs), made relative per page here. */
export const homePlaceholder = 'cloudrec-site-home';

export function buildClientPages(root: string) {
  const out = join(root, 'client');
  execFileSync(join(projectRoot, 'node_modules/.bin/typedoc'), ['--logLevel', 'Warn', '--out', out], { cwd: projectRoot, stdio: 'inherit' });
  const pages = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.html'));
  for (const file of pages) {
    const path = join(out, file);
    const site = relative(root, path).split('\\').join('/');
    const html = withIcon(readFileSync(path, 'utf8'), site)
      .replaceAll(`href="${homePlaceholder}"`, `href="${linkFrom(site, sitePages.home.en)}"`)
      .replaceAll(/href="(?:\.\.\/)*assets\/icons\.svg#/g, 'href="#');
    writeFileSync(path, html);
  }
}
