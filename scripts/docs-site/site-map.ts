// Where each page of the docs site lives, relative to its root; every link between pages is
// made relative from these, so the site works from any base path and from file://.
import { dirname, posix } from 'node:path';

export type Language = 'en' | 'zh';

export const sitePages = {
  home: { en: 'index.html', zh: 'zh/index.html' },
  gettingStarted: { en: 'getting-started.html', zh: 'zh/getting-started.html' },
  api: { en: 'api/en/index.html', zh: 'api/zh/index.html' },
  client: 'client/index.html',
  /** The site's icon: linked from every page, so no browser asks for /favicon.ico at the host's root, outside the base path. */
  icon: 'favicon.svg',
  /** The spec files, as they are published beside the pages. */
  specs: {
    'openapi.json': 'openapi.json',
    'openapi.yaml': 'openapi.yaml',
    'sandbox/openapi.json': 'sandbox/openapi.json',
    'operations/openapi.json': 'operations/openapi.json',
  },
} as const;

/** The link from page `from` to page `to`, both relative to the site root. */
export const linkFrom = (from: string, to: string) => posix.relative(dirname(from), to) || posix.basename(to);

/** The icon: a recording dot. */
export const iconSvg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#1f2937"/><circle cx="16" cy="16" r="8" fill="#ef4444"/></svg>\n';

/** The `<link>` to the site's icon from page `from`, for its `<head>`. */
export const iconLink = (from: string) => `<link rel="icon" type="image/svg+xml" href="${linkFrom(from, sitePages.icon)}">`;

/** The page's HTML with the icon's link at the end of its `<head>`. */
export const withIcon = (html: string, from: string) => html.replace(/<\/head>/i, `${iconLink(from)}\n</head>`);
