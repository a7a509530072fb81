// The built docs site as a person sees it: opened in headless Chromium with the network off, from
// disk (file://) and from a static server under a base path, as a team would publish it. The home
// page of each language and every link on it; the API pages in depth. No console error, no request
// outside the site. Screenshots go to test-results/screenshots/.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { serveDocs } from '../scripts/serve-docs.js';
import { requestProperties } from '../src/conformance/request-schema.js';
import { chromiumPath, chromiumPresent, launchBrowser, offlinePage } from './support/browser.js';
import { projectRoot } from './support/prism.js';

// The site `npm run docs` builds, built once for the run (test/support/docs-site.setup.ts).
const out = inject('docsSite');
const screenshots = join(projectRoot, 'test-results/screenshots');
const requestFields = Object.keys(requestProperties);
const pageUrl = (code: string) => pathToFileURL(join(out, 'api', code, 'index.html')).href;
const operation = { en: 'Start a recording task', zh: '启动录制任务' } as const;
const tag = { en: 'Recording', zh: '录制' } as const;

let browser: Browser;
let served: Awaited<ReturnType<typeof serveDocs>>;
beforeAll(async () => {
  if (!chromiumPresent) return;
  mkdirSync(screenshots, { recursive: true });
  browser = await launchBrowser();
  served = await serveDocs(out, { port: 0, base: '/team/recording-docs/' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  served?.server.close();
});

const home = { en: { path: 'index.html', heading: 'Cloud Recording API' }, zh: { path: 'zh/index.html', heading: '云端录制 API' } } as const;

/** Waits until a page shows what it is: its first heading. */
async function shown(page: Page): Promise<string> {
  const heading = page.locator('h1').first();
  await heading.waitFor();
  return (await heading.innerText()).trim();
}

// CI installs Chromium (scripts/install-system-packages.sh); a machine without it skips, saying why.
describe.skipIf(!chromiumPresent)(`the docs site in Chromium (${chromiumPath})`, () => {
  const where = {
    'from disk': () => ({ base: pathToFileURL(`${out}/`).href, origin: undefined }),
    'over HTTP under a base path': () => ({ base: served.url, origin: new URL(served.url).origin }),
  };
  // Both languages from disk; over HTTP the English one (the links that differ are checked statically in docs.test.ts).
  test.each([['en', 'from disk'], ['zh', 'from disk'], ['en', 'over HTTP under a base path']] as const)(
    'the %s home page, %s, renders and every link on it opens a page of the site without an error',
    async (code, how) => {
      const { base, origin } = where[how as keyof typeof where]();
      const { page, outside, errors } = await offlinePage(browser, origin);
      await page.goto(new URL(home[code].path, base).href);
      expect(await shown(page)).toBe(home[code].heading);
      if (how === 'from disk') await page.screenshot({ path: join(screenshots, `home-${code}.png`), fullPage: true });
      const links = await page.locator('a[href]').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).href));
      expect(links.length).toBeGreaterThanOrEqual(12);
      const opened: string[] = [];
      for (const link of new Set(links)) {
        // Every link stays inside the site: under the folder or base path it was published at.
        expect(link.startsWith(base), link).toBe(true);
        if (/\.(json|yaml)$/.test(link)) {
          // A spec file is downloaded rather than shown: read it as the download would.
          const text = link.startsWith('file:') ? readFileSync(fileURLToPath(link), 'utf8') : await (await fetch(link)).text();
          opened.push(`${link.slice(base.length)}: ${text.slice(0, 20)}`);
          continue;
        }
        await page.goto(link);
        opened.push(`${link.slice(base.length)}: ${await shown(page)}`);
        // Each page leads home.
        expect(await page.locator('a[href]').evaluateAll((as) => as.some((a) => /(^|\/)(zh\/)?index\.html$/.test((a as HTMLAnchorElement).href) && !(a as HTMLAnchorElement).href.includes('/api/') && !(a as HTMLAnchorElement).href.includes('/client/'))), link).toBe(true);
      }
      expect(opened.join('\n')).toMatch(code === 'en' ? /api\/en\/index\.html: Cloud Recording API \(1\.0\.0\)/ : /api\/zh\/index\.html: 云端录制 API \(1\.0\.0\)/);
      expect(opened.join('\n')).toMatch(/client\/index\.html: cloudrec client/);
      expect(opened.join('\n')).toMatch(/openapi\.json: \{/);
      expect(opened.join('\n')).toMatch(/openapi\.yaml: openapi: 3\.1\.0/);
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
      await page.context().close();
    },
    120_000,
  );

  test('the API page routes by hash: its section links are hash links that stay in the page and reload to the same place', async () => {
    const { page, errors, outside } = await offlinePage(browser, new URL(served.url).origin);
    await page.goto(new URL('api/en/index.html', served.url).href);
    await page.getByTestId('menu-item-label').getByText('Errors', { exact: true }).click();
    await page.waitForURL(/index\.html#\/section\/errors$/);
    const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(hrefs.filter((href) => href.startsWith('/'))).toEqual([]);
    expect(hrefs).toContain('#/section/errors');
    await page.reload();
    await page.getByRole('heading', { name: 'Errors' }).first().waitFor();
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.context().close();
  }, 60_000);

  test('the client reference opens on its README and logs no error, from disk and over HTTP', async () => {
    for (const base of [pathToFileURL(`${out}/`).href, served.url]) {
      const { page, errors, outside } = await offlinePage(browser, new URL(served.url).origin);
      for (const path of ['client/index.html', 'client/functions/cloudrec.createClient.html', 'client/functions/cloudrec_webhooks.verifyWebhook.html']) {
        await page.goto(new URL(path, base).href);
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('load');
      }
      await page.goto(new URL('client/index.html', base).href);
      await page.getByRole('heading', { name: 'The first call' }).waitFor();
      await page.getByRole('link', { name: 'cloudrec docs home' }).first().click();
      expect(await shown(page)).toBe('Cloud Recording API');
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
      await page.context().close();
    }
  }, 60_000);

  test.each(['en', 'zh'] as const)('the %s page renders offline with the operation and every request field', async (code) => {
    const { page, outside, errors } = await offlinePage(browser);
    await page.goto(pageUrl(code));
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.screenshot({ path: join(screenshots, `${code}-overview.png`) });

    // Redoc renders operations lazily: open the tag, then the operation, from the sidebar.
    const menu = page.getByTestId('menu-item-label');
    await menu.getByText(tag[code], { exact: true }).click();
    await menu.getByText(operation[code], { exact: true }).click();
    await page.getByRole('heading', { name: operation[code], level: 2 }).waitFor();
    const fields = page.locator('.schema-property-item .schema-name');
    for (const field of requestFields) {
      await expect.poll(() => fields.getByText(field, { exact: true }).first().isVisible(), { message: field }).toBe(true);
    }
    await page.screenshot({ path: join(screenshots, `${code}-operation.png`) });
    // The request samples: curl shown first, the TypeScript client and fetch a choice away.
    const samples = page.getByTestId('right-panel').or(page.locator('body'));
    await expect.poll(() => samples.getByText("curl -X POST 'https://recording.example.com/v1/cloudRecord'").first().isVisible()).toBe(true);
    for (const [label, shows] of [['TypeScript client', 'createClient'], ['fetch', 'JSON.stringify']] as const) {
      await page.locator('button[aria-haspopup=menu]', { hasText: /^(curl|TypeScript client|fetch)$/ }).click();
      await page.getByRole('menuitem', { name: label, exact: true }).click();
      await expect.poll(() => page.getByText(shows).first().isVisible(), { message: label }).toBe(true);
    }
    await page.screenshot({ path: join(screenshots, `${code}-samples.png`) });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  test('the language link switches between the English and the Chinese page', async () => {
    const { page, outside } = await offlinePage(browser);
    await page.goto(pageUrl('en'));
    await page.getByRole('link', { name: '中文' }).first().click();
    await page.waitForURL(/\/zh\/index\.html$/);
    await page.getByText('快速开始').first().waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByRole('link', { name: 'English' }).first().click();
    await page.waitForURL(/\/en\/index\.html$/);
    await page.getByText('Getting started').first().waitFor();
    expect(outside).toEqual([]);
    await page.context().close();
  }, 60_000);
});
