// Debian's Chromium driven by playwright-core, offline: every request that is not a local file
// is refused and recorded, so a test can say the page needed nothing from outside.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumPresent = existsSync(chromiumPath);

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // Root needs --no-sandbox; the rest keeps Chromium from calling home on its own. Playwright
    // gives every launch a fresh profile of its own.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
    ],
  });
}

/**
 * A page that can load local files only (and `origin`, a loopback server of the test's, when
 * given); `outside` lists every other URL it tried, `errors` every console error and uncaught error.
 */
export async function offlinePage(browser: Browser, origin?: string): Promise<{ page: Page; outside: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (/^(file|data|blob|about):/.test(url) || (origin && url.startsWith(`${origin}/`))) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${String(error)}`));
  return { page, outside, errors };
}
