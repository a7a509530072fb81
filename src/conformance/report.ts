// The conformance report as people and CI read it: a table on the terminal, JUnit XML, or JSON.
import type { CheckResult, ConformanceReport } from './run-conformance.js';

const mark = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;

const pad = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

/** One line a check, and under each failure what is wrong and the curl line that shows it. */
export function formatTable(report: ConformanceReport): string {
  const idWidth = Math.min(34, Math.max(5, ...report.results.map((r) => r.id.length)));
  const lines = [
    `cloudrec conformance: ${report.baseUrl} (seed ${report.seed}, ${report.runs} generated requests a property)`,
    '',
    `      ${pad('check', idWidth)}  ${pad('expected', 34)}  got`,
  ];
  for (const result of report.results) {
    lines.push(`${mark[result.outcome]}  ${pad(result.id, idWidth)}  ${pad(result.expected, 34)}  ${result.got}`);
    if (result.outcome === 'passed') continue;
    const indent = ' '.repeat(6);
    lines.push(`${indent}${result.title}`);
    for (const problem of result.problems) lines.push(`${indent}- ${problem}`);
    if (result.outcome === 'failed' && result.curl) lines.push(`${indent}${result.curl}`);
  }
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

/** The last line of every report: the counts and the verdict. */
export function summaryLine(report: ConformanceReport): string {
  const { passed, failed, skipped, requests, rateLimitWaits } = report.summary;
  const counts = `${passed} passed, ${failed} failed, ${skipped} skipped; ${requests} requests, ${rateLimitWaits} waits for Retry-After, ${(report.durationMs / 1000).toFixed(1)} s.`;
  if (report.conforms) return `Conforms: ${counts}`;
  const names = report.results.filter((r) => r.outcome === 'failed').map((r) => r.id);
  return `Does not conform: ${counts}\nFailed: ${names.join(', ')}.`;
}

const xml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: a test suite per group of checks, a test case per check. */
export function formatJunit(report: ConformanceReport): string {
  const groups = new Map<string, CheckResult[]>();
  for (const result of report.results) groups.set(result.group, [...(groups.get(result.group) ?? []), result]);
  const seconds = (report.durationMs / 1000).toFixed(3);
  const suites = [...groups].map(([group, results]) => {
    const cases = results.map((r) => {
      const name = `${xml(r.id)}: ${xml(r.title)}`;
      if (r.outcome === 'passed') return `    <testcase classname="conformance.${xml(group)}" name="${name}"/>`;
      if (r.outcome === 'skipped') return `    <testcase classname="conformance.${xml(group)}" name="${name}"><skipped message="${xml(r.problems.join('; '))}"/></testcase>`;
      const text = [`expected ${r.expected}, got ${r.got}`, ...r.problems, r.curl ?? ''].join('\n');
      return `    <testcase classname="conformance.${xml(group)}" name="${name}"><failure message="${xml(r.problems[0] ?? 'failed')}">${xml(text)}</failure></testcase>`;
    });
    const count = (outcome: CheckResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
    return `  <testsuite name="conformance: ${xml(group)}" tests="${results.length}" failures="${count('failed')}" skipped="${count('skipped')}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cloudrec conformance ${xml(report.baseUrl)}" tests="${report.results.length}" failures="${report.summary.failed}" skipped="${report.summary.skipped}" time="${seconds}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export const formatJson = (report: ConformanceReport) => `${JSON.stringify(report, null, 2)}\n`;
