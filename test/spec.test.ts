import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { apiDocument, apiValidator } from '../src/spec/api-document.js';
import { describeErrors } from '../src/spec/schema-validator.js';
import { readmePath, withErrorTable } from '../scripts/error-table.js';
import { projectRoot } from './support/prism.js';

const tsx = join(projectRoot, 'node_modules/.bin/tsx');

describe('the spec', () => {
  test('lints clean: no errors and no warnings', () => {
    const output = execFileSync(tsx, ['scripts/lint.ts'], { cwd: projectRoot, encoding: 'utf8' });
    expect(output).toContain('redocly lint: 0 errors, 0 warnings');
  });

  // Every named example, wherever it sits, against the schema beside it.
  const examples: { where: string; schema: string; value: unknown }[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (record.schema && record.examples && !Array.isArray(record.examples)) {
      for (const name of Object.keys(record.examples)) {
        const example = apiValidator.resolve(`${pointer}/examples/${name}`).value as { value: unknown };
        examples.push({ where: `${pointer}/examples/${name}`, schema: `${pointer}/schema`, value: example.value });
      }
    }
    if (Array.isArray(record.examples) && (record.type || record.properties)) {
      record.examples.forEach((value, i) => examples.push({ where: `${pointer}/examples/${i}`, schema: pointer, value }));
    }
    for (const [key, child] of Object.entries(record)) walk(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  };
  walk(apiDocument, '');

  test('has examples to check', () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  test.each(examples)('example $where validates against its schema', ({ schema, value }) => {
    const validate = apiValidator.schemaAt(apiValidator.resolve(schema).pointer);
    validate(value);
    expect(describeErrors(validate.errors)).toEqual([]);
  });

  test('gives every error code of the operation a response example named after it', () => {
    const codeSchema = apiValidator.resolve('/components/schemas/ErrorCode').value as { enum: string[] };
    const responses = apiValidator.operation('/v1/cloudRecord', 'post')!.responses;
    const named = Object.keys(responses).flatMap((status) =>
      Object.entries(
        (apiValidator.resolve(`/paths/~1v1~1cloudRecord/post/responses/${status}/content/application~1json/examples`).value ??
          {}) as Record<string, unknown>,
      ).map(([name]) => {
        const example = apiValidator.resolve(
          `/paths/~1v1~1cloudRecord/post/responses/${status}/content/application~1json/examples/${name}`,
        ).value as { value: { code: string } };
        return [name, example.value.code];
      }),
    );
    const failures = named.filter(([name]) => name !== 'success');
    // not_found answers what is outside every operation, so no operation lists it.
    expect(failures.map(([name]) => name).sort()).toEqual(codeSchema.enum.filter((code) => code !== 'not_found').sort());
    expect(codeSchema.enum).toContain('not_found');
    for (const [name, code] of failures) expect(code).toBe(name);
  });

  test('rejects isAudioOnly and isVideoOnly both 1 in the schema itself', () => {
    const validate = apiValidator.requestBody('/v1/cloudRecord', 'post', 'application/json')!;
    const base = { app_id: 'a', project_id: 'p', channel: 'c', sign_key: 'k' };
    expect(validate({ ...base, isAudioOnly: 1, isVideoOnly: 0 })).toBe(true);
    expect(validate({ ...base, isAudioOnly: 0, isVideoOnly: 1 })).toBe(true);
    expect(validate({ ...base, isAudioOnly: 1, isVideoOnly: 1 })).toBe(false);
  });
});

describe('generated/', () => {
  const out = mkdtempSync(join(tmpdir(), 'cloudrec-generated-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('is what `npm run generate` makes from openapi/ now', () => {
    execFileSync(tsx, ['scripts/generate.ts', '--out', out], { cwd: projectRoot, stdio: 'pipe' });
    const committed = readdirSync(join(projectRoot, 'generated')).filter((f) => f !== 'README.md').sort();
    expect(readdirSync(out).sort()).toEqual(committed);
    for (const file of committed) {
      expect(readFileSync(join(out, file), 'utf8'), `generated/${file} is stale: run npm run generate`).toBe(
        readFileSync(join(projectRoot, 'generated', file), 'utf8'),
      );
    }
  });

  test("the README's table of failures is the spec's ErrorCode, every code with its status", () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme, 'README.md is stale: run npm run generate').toBe(withErrorTable(readme, apiDocument as unknown as Parameters<typeof withErrorTable>[1]));
    const codes = (apiValidator.resolve('/components/schemas/ErrorCode').value as { enum: string[] }).enum;
    for (const code of codes) expect(readme).toMatch(new RegExp(`^\\| \\d{3} \\| \`${code}\` \\|`, 'm'));
  });
});
