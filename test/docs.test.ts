// `npm run docs`: both languages' API pages and the client reference, built into a temp folder;
// every text of the spec translated by the overlay, and every overlay action aimed at something.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSONPath } from 'jsonpath-plus';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { bundleSpec, languages } from '../scripts/build-docs.js';
import { apiValidator } from '../src/spec/api-document.js';
import { projectRoot } from './support/prism.js';

const out = mkdtempSync(join(tmpdir(), 'cloudrec-docs-'));
const pages: Record<string, string> = {};
let clientPage = '';

beforeAll(() => {
  execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), ['scripts/build-docs.ts', '--out', out], { cwd: projectRoot, stdio: 'pipe' });
  for (const { code } of languages) pages[code] = readFileSync(join(out, 'api', code, 'index.html'), 'utf8');
  clientPage = readFileSync(join(out, 'client/index.html'), 'utf8');
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const requestFields = Object.keys(
  (apiValidator.resolve('/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/schema').value as { properties: object }).properties,
);
const errorCodes = (apiValidator.resolve('/components/schemas/ErrorCode').value as { enum: string[] }).enum;

describe.each(languages.map((l) => [l.code]))('npm run docs, the %s API page', (code) => {
  test('loads nothing from the network', () => {
    expect(pages[code]).not.toMatch(/<script[^>]+src=/i);
    expect(pages[code]).not.toMatch(/<link[^>]+href="https?:/i);
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
  const index = readFileSync(join(out, 'client/modules.html'), 'utf8');
  for (const name of ['createClient', 'isApiError', 'defaultRetry', 'ClientOptions', 'CallOptions', 'StartRecordingResult']) expect(index).toContain(name);
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
