import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiValidator } from '../src/spec/api-document.js';
import { projectRoot } from './support/prism.js';

const out = mkdtempSync(join(tmpdir(), 'cloudrec-docs-'));
let apiPage = '';
let clientPage = '';

beforeAll(() => {
  execFileSync(join(projectRoot, 'node_modules/.bin/tsx'), ['scripts/build-docs.ts', '--out', out], {
    cwd: projectRoot,
    stdio: 'pipe',
  });
  apiPage = readFileSync(join(out, 'api/index.html'), 'utf8');
  clientPage = readFileSync(join(out, 'client/index.html'), 'utf8');
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run docs', () => {
  test('builds an API page that loads nothing from the network', () => {
    expect(apiPage).not.toMatch(/<script[^>]+src=/i);
    expect(apiPage).not.toMatch(/<link[^>]+href="https?:/i);
  });

  test('puts the operation, every request field and every error code on the API page', () => {
    expect(apiPage).toContain('Start a recording task');
    const request = apiValidator.resolve(
      '/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/schema',
    ).value as { properties: Record<string, unknown> };
    for (const field of Object.keys(request.properties)) expect(apiPage).toContain(field);
    const codes = (apiValidator.resolve('/components/schemas/ErrorCode').value as { enum: string[] }).enum;
    for (const code of codes) expect(apiPage).toContain(code);
  });

  test('puts the curl, TypeScript client and fetch samples on the API page', () => {
    expect(apiPage).toContain('curl -X POST');
    expect(apiPage).toContain('createClient');
    expect(apiPage).toContain('JSON.stringify');
  });

  test('builds a client reference that documents createClient', () => {
    expect(clientPage).toContain('createClient');
    expect(clientPage).toContain('isApiError');
  });
});
