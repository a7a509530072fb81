// The README's table of failures, made from the spec's ErrorCode (each code's description starts
// with its HTTP status), so it cannot drift from what the API answers. `npm run generate` writes it
// between the README's markers; a test fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './redocly.js';

const begin = '<!-- error-table: made by npm run generate from ErrorCode in the spec; do not edit -->';
const end = '<!-- /error-table -->';

/** The table, one row per code, by status. */
export function errorTable(spec: { components: { schemas: Record<string, unknown> } }): string {
  const codes = spec.components.schemas.ErrorCode as { enum: string[]; 'x-enumDescriptions': Record<string, string> };
  const rows = codes.enum.map((code) => {
    const text = codes['x-enumDescriptions'][code]!;
    const match = /^HTTP (\d{3})\. (.*)$/s.exec(text);
    if (!match) throw new Error(`ErrorCode ${code}: its description does not start with "HTTP <status>. "`);
    return { status: Number(match[1]), code, meaning: match[2]!.replace(/\s+/g, ' ').replaceAll('|', '\\|') };
  });
  rows.sort((a, b) => a.status - b.status);
  return ['| status | code | when |', '|---|---|---|', ...rows.map((r) => `| ${r.status} | \`${r.code}\` | ${r.meaning} |`)].join('\n');
}

/** The README with its table made anew from `spec`. */
export function withErrorTable(readme: string, spec: Parameters<typeof errorTable>[0]): string {
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${begin} … ${end} markers`);
  return `${readme.slice(0, from + begin.length)}\n${errorTable(spec)}\n${readme.slice(to)}`;
}

export const readmePath = join(projectRoot, 'README.md');

/** Writes the table into README.md. */
export function writeErrorTable(spec: Parameters<typeof errorTable>[0]) {
  const readme = readFileSync(readmePath, 'utf8');
  const updated = withErrorTable(readme, spec);
  if (updated !== readme) writeFileSync(readmePath, updated);
}
