// The built docs as a person sees them: both languages opened in headless Chromium with the
// network off. Screenshots go to test-results/screenshots/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiValidator } from '../src/spec/api-document.js';
import { chromiumPath, chromiumPresent, launchBrowser, offlinePage } from './support/browser.js';
import { projectRoot } from './support/prism.js';

const out = mkdtempSync(join(tmpdir(), 'cloudrec-docs-browser-'));
const screenshots = join(projectRoot, 'test-results/screenshots');
const requestFields = Object.keys(
  (apiValidator.resolve('/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/schema').value as { properties: object }).properties,
);
const pageUrl = (code: string) => pathToFileURL(join(out, 'api', code, 'index.html')).href;
const operation = { en: 'Start a recording task', zh: '启动录制任务' } as const;
const tag = { en: 'Recording', zh: '录制' } as const;

let browser: Browser;
beforeAll(async () => {
  if (!chromiumPresent) return;
  execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), ['scripts/build-docs.ts', '--out', out], { cwd: projectRoot, stdio: 'pipe' });
  mkdirSync(screenshots, { recursive: true });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

// CI installs Chromium (scripts/install-system-packages.sh); a machine without it skips, saying why.
describe.skipIf(!chromiumPresent)(`the docs in Chromium (${chromiumPath})`, () => {
  test.each(['en', 'zh'] as const)('the %s page renders offline with the operation and every request field', async (code) => {
    const { page, outside } = await offlinePage(browser);
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
    await expect.poll(() => samples.getByText("curl -X POST 'http://127.0.0.1:8787/v1/cloudRecord'").first().isVisible()).toBe(true);
    for (const [label, shows] of [['TypeScript client', 'createClient'], ['fetch', 'JSON.stringify']] as const) {
      await page.locator('button[aria-haspopup=menu]', { hasText: /^(curl|TypeScript client|fetch)$/ }).click();
      await page.getByRole('menuitem', { name: label, exact: true }).click();
      await expect.poll(() => page.getByText(shows).first().isVisible(), { message: label }).toBe(true);
    }
    await page.screenshot({ path: join(screenshots, `${code}-samples.png`) });
    expect(outside).toEqual([]);
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
