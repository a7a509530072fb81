// Where each page of the docs site lives, relative to its root; every link between pages is
// made relative from these, so the site works from any base path and from file://.
import { dirname, posix } from 'node:path';

export type Language = 'en' | 'zh';

export const sitePages = {
  home: { en: 'index.html', zh: 'zh/index.html' },
  gettingStarted: { en: 'getting-started.html', zh: 'zh/getting-started.html' },
  api: { en: 'api/en/index.html', zh: 'api/zh/index.html' },
  client: 'client/index.html',
  /** The spec files, as they are published beside the pages. */
  specs: { 'openapi.json': 'openapi.json', 'openapi.yaml': 'openapi.yaml', 'sandbox/openapi.json': 'sandbox/openapi.json' },
} as const;

/** The link from page `from` to page `to`, both relative to the site root. */
export const linkFrom = (from: string, to: string) => posix.relative(dirname(from), to) || posix.basename(to);
