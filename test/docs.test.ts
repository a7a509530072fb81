// `npm run docs`: both languages' API pages and the client reference, built into a temp folder;
// every text of the spec translated by the overlay, and every overlay action aimed at something.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { JSONPath } from 'jsonpath-plus';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { parse } from 'yaml';
import { bundleSpec, languages } from '../scripts/build-docs.js';
import { sitePages } from '../scripts/docs-site/site-map.js';
import { apiValidator } from '../src/spec/api-document.js';
import { requestProperties } from '../src/conformance/request-schema.js';
import { projectRoot } from './support/prism.js';

// The site `npm run docs` builds, built once for the run (test/support/docs-site.setup.ts).
const out = inject('docsSite');
const pages: Record<string, string> = {};
let clientPage = '';

beforeAll(() => {
  for (const { code } of languages) pages[code] = readFileSync(join(out, 'api', code, 'index.html'), 'utf8');
  clientPage = readFileSync(join(out, 'client/index.html'), 'utf8');
});

const requestFields = Object.keys(requestProperties);
const errorCodes = (apiValidator.resolve('/components/schemas/ErrorCode').value as { enum: string[] }).enum;

/** Every HTML page of the built site, relative to its root. */
const sitePagesBuilt = () => readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.html')).map((f) => f.split('\\').join('/'));
/** The targets of a page's links and of what it loads (href and src), as written. */
const references = (html: string) => [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));

describe('npm run docs, the site', () => {
  test('has every page of the site map and the spec files', () => {
    const all = [...Object.values(sitePages.home), ...Object.values(sitePages.gettingStarted), ...Object.values(sitePages.api), sitePages.client, ...Object.values(sitePages.specs)];
    expect(all.filter((page) => !existsSync(join(out, page)))).toEqual([]);
  });

  test('links only relatively inside itself: every file a page loads, and every link to a page of the site, is a file of the site', () => {
    const broken: string[] = [];
    for (const page of sitePagesBuilt()) {
      const html = readFileSync(join(out, page), 'utf8');
      // What a page loads must come from the site itself, by a relative path.
      for (const [, target] of html.matchAll(/<(?:script|img|link)\b[^>]*\s(?:src|href)="([^"]*)"/g)) {
        if (!target!.startsWith('data:') && /^([a-z]+:)?\/\/|^\//i.test(target!)) broken.push(`${page} loads ${target}`);
      }
      for (const target of references(html)) {
        // Anchors within the page, and links out to the tools' own sites (attribution), are not pages of this one.
        if (/^(#|data:|mailto:|https:\/\/)/.test(target) || target === '') continue;
        // Redoc's routes, written /section/…: the page makes them #/section/… links (checked in Chromium).
        if (page.startsWith('api/') && target.startsWith('/')) continue;
        const file = posix.normalize(posix.join(posix.dirname(page), target.split(/[?#]/)[0]!));
        const path = join(out, file);
        const resolved = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
        if (!existsSync(resolved)) broken.push(`${page} links to ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test("every page names the site's icon, inside the site, so no browser asks for /favicon.ico outside its base path", () => {
    expect(readFileSync(join(out, sitePages.icon), 'utf8')).toMatch(/^<svg /);
    const without = sitePagesBuilt().filter((page) => {
      const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/.exec(readFileSync(join(out, page), 'utf8'));
      return !icon || join(out, dirname(page), icon[1]!) !== join(out, sitePages.icon);
    });
    expect(without).toEqual([]);
  });

  test("the Getting started page, in each language, shows the spec's first call and how to know when the files are in the bucket", () => {
    for (const [language, heading] of [['en', 'Know when the files are in the bucket'], ['zh', '得知文件已进入存储桶']] as const) {
      const html = readFileSync(join(out, sitePages.gettingStarted[language]), 'utf8');
      expect(html, language).toContain(`<h2>${heading}</h2>`);
      expect(html, language).toContain('verifyWebhook');
      expect(html, language).toContain('cloudrec/webhooks');
    }
  });

  test('every page links home', () => {
    const homes = new Set<string>(Object.values(sitePages.home));
    const without = sitePagesBuilt().filter(
      (page) => !references(readFileSync(join(out, page), 'utf8')).some((target) => homes.has(posix.normalize(posix.join(posix.dirname(page), target)))),
    );
    expect(without).toEqual([]);
  });

  test('no page and no help of the command line speaks of the source page the API was written from', () => {
    const source = /original page|source page|原始页面|原页面/i;
    const speaking = sitePagesBuilt().filter((page) => source.test(readFileSync(join(out, page), 'utf8')));
    expect(speaking).toEqual([]);
    const cli = join(projectRoot, 'bin/cloudrec.js');
    for (const command of ['', 'serve', 'mock', 'docs', 'start', 'status', 'conformance']) {
      const help = execFileSync(process.execPath, [cli, 'help', ...(command ? [command] : [])], { encoding: 'utf8' });
      expect(help, command).not.toMatch(source);
      expect(help.length, command).toBeGreaterThan(100);
    }
  });
});

describe.each(languages.map((l) => [l.code]))('npm run docs, the %s API page', (code) => {
  test('loads nothing from the network', () => {
    expect(pages[code]).not.toMatch(/<script[^>]+src="(?:[a-z]+:)?\/\//i);
    expect(pages[code]).not.toMatch(/<link[^>]+href="(?:[a-z]+:)?\/\//i);
  });

  test('has every request field, every error code and the three code samples', () => {
    for (const field of requestFields) expect(pages[code]).toContain(field);
    for (const errorCode of errorCodes) expect(pages[code]).toContain(errorCode);
    expect(pages[code]).toContain('curl -X POST');
    expect(pages[code]).toContain('createClient');
    expect(pages[code]).toContain('JSON.stringify');
  });

  test('links to the other language and says which language it is in', () => {
    const other = code === 'en' ? 'zh' : 'en';
    expect(pages[code]).toContain(`../${other}/index.html`);
    expect(pages[code]).toContain(code === 'en' ? '../../index.html' : '../../zh/index.html');
    expect(pages[code]).toMatch(new RegExp(`<html lang="${code === 'en' ? 'en' : 'zh-CN'}">`));
  });
});

test('the English page is in English and the Chinese page in Chinese', () => {
  expect(pages.en).toContain('Start a recording task');
  expect(pages.zh).toContain('启动录制任务');
  expect(pages.zh).toContain('快速开始');
});

test("npm run docs builds a client reference that opens on the client's README and documents every export", () => {
  expect(clientPage).toContain('The first call');
  expect(clientPage).toContain('Timeouts, cancellation and retries');
  const modules = readFileSync(join(out, 'client/modules.html'), 'utf8');
  expect(modules).toContain('cloudrec/webhooks');
  const client = readFileSync(join(out, 'client/modules/cloudrec.html'), 'utf8');
  for (const name of ['createClient', 'isApiError', 'defaultRetry', 'ClientOptions', 'CallOptions', 'StartRecordingResult']) expect(client).toContain(name);
  const webhooks = readFileSync(join(out, 'client/modules/cloudrec_webhooks.html'), 'utf8');
  for (const name of ['verifyWebhook', 'signWebhook', 'WebhookEvent', 'WebhookVerification', 'VerifyWebhookOptions']) expect(webhooks).toContain(name);
});

describe('the Chinese overlay', () => {
  const overlayFile = join(projectRoot, 'openapi/overlays/zh-CN.yaml');
  const overlay = parse(readFileSync(overlayFile, 'utf8')) as { actions: { target: string }[] };
  const english = bundleSpec();
  const chinese = bundleSpec('openapi/overlays/zh-CN.yaml');

  /** Every text people read in the docs: descriptions, summaries, enum descriptions, the title. */
  function texts(node: unknown, path: string[] = []): { path: string[]; value: string }[] {
    if (Array.isArray(node)) return node.flatMap((item, i) => texts(item, [...path, String(i)]));
    if (!node || typeof node !== 'object') return [];
    return Object.entries(node).flatMap(([key, value]) => {
      const here = [...path, key];
      if ((key === 'description' || key === 'summary') && typeof value === 'string') return [{ path: here, value }];
      if (key === 'x-enumDescriptions') return Object.entries(value as object).map(([k, v]) => ({ path: [...here, k], value: String(v) }));
      return texts(value, here);
    });
  }
  const at = (doc: unknown, path: string[]) => path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);

  test('translates every description, summary and enum description of the spec, and the title', () => {
    const untranslated = [...texts(english), { path: ['info', 'title'], value: String(at(english, ['info', 'title'])) }]
      .filter(({ path, value }) => {
        const translated = at(chinese, path);
        return typeof translated !== 'string' || translated === value || !/[\u4e00-\u9fff]/.test(translated);
      })
      .map(({ path }) => path.join('.'));
    expect(untranslated).toEqual([]);
  });

  test('aims every action at something in the bundled spec', () => {
    const missing = overlay.actions.filter(({ target }) => JSONPath({ path: target, json: english, wrap: true }).length === 0);
    expect(missing.map((a) => a.target)).toEqual([]);
  });

  test('changes nothing but text', () => {
    const strip = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(strip);
      if (!node || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node)
          .filter(([key]) => !['description', 'summary', 'x-enumDescriptions', 'title', 'x-displayName'].includes(key))
          .map(([key, value]) => [key, strip(value)]),
      );
    };
    expect(strip(chinese)).toEqual(strip(english));
  });
});
