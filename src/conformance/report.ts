// The conformance report as people and CI read it: a table on the terminal, JUnit XML, or JSON.
import type { CheckResult, ConformanceReport } from './run-conformance.js';

const mark = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;

const pad = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

/** A problem shared by several failed checks: one defect seen from many sides. */
export interface Cause {
  problem: string;
  ids: string[];
  /** Whether every check that got an answer failed with it. */
  everyAnswer: boolean;
  /** A request that shows it. */
  curl?: string;
}

/** Failed checks at least this many with one problem are reported as that problem, once. */
const causeSize = 3;

/** The problems several failed checks share, most checks first; the rest of each check's problems stay its own. */
export function causesOf(report: ConformanceReport): Cause[] {
  const failed = report.results.filter((r) => r.outcome === 'failed');
  const answered = report.results.filter((r) => r.outcome !== 'skipped' && r.group !== 'client' && r.got !== 'no answer').length;
  const byProblem = new Map<string, CheckResult[]>();
  for (const result of failed) for (const problem of new Set(result.problems)) byProblem.set(problem, [...(byProblem.get(problem) ?? []), result]);
  return [...byProblem]
    .filter(([, results]) => results.length >= causeSize)
    .sort((a, b) => b[1].length - a[1].length)
    .map(([problem, results]) => ({ problem, ids: results.map((r) => r.id), everyAnswer: results.length === answered, curl: results.find((r) => r.curl)?.curl }));
}

/** The ids in lines of at most `width` characters, at most `maxLines` of them, then how many more. */
function idLines(ids: string[], maxLines: number, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [i, id] of ids.entries()) {
    const next = line ? `${line}, ${id}` : id;
    if (next.length <= width || !line) {
      line = next;
      continue;
    }
    if (lines.length + 1 === maxLines) return [...lines, `${line} and ${ids.length - i} more`];
    lines.push(`${line},`);
    line = id;
  }
  return [...lines, line];
}


/**
 * The report on a terminal: the verdict, the failures grouped by cause (one defect is one entry, not
 * sixty), each other failure with what is wrong and the curl line that shows it, what was not
 * checked and why, then the counts. Passed checks are listed only when `verbose`.
 */
export function formatTable(report: ConformanceReport, { verbose = false } = {}): string {
  const idWidth = Math.min(34, Math.max(5, ...report.results.map((r) => r.id.length)));
  const indent = ' '.repeat(6);
  const lines = [`cloudrec conformance: ${report.baseUrl} (${report.profile === 'mock' ? 'mock profile, ' : ''}seed ${report.seed}, ${report.runs} generated requests a property)`];
  const causes = causesOf(report);
  const explained = new Set(causes.map((c) => c.problem));
  if (causes.length) {
    lines.push('', `Failures that share a cause (${causes.length}):`);
    causes.forEach((cause, i) => {
      lines.push(`${String(i + 1).padStart(3)}. ${cause.problem}: ${cause.everyAnswer ? 'every answer, ' : ''}${cause.ids.length} checks`);
      for (const line of idLines(cause.ids, verbose ? Infinity : 3)) lines.push(`${indent}${line}`);
      if (cause.curl) lines.push(`${indent}e.g. ${cause.curl}`);
    });
  }
  const row = (result: CheckResult) => `${mark[result.outcome]}  ${pad(result.id, idWidth)}  ${pad(result.expected, 34)}  ${result.got}`;
  const own = report.results.filter((r) => r.outcome === 'failed' && r.problems.some((p) => !explained.has(p)));
  const shown = report.results.filter((r) => verbose || own.includes(r) || r.outcome === 'skipped');
  if (shown.length) {
    lines.push('', `      ${pad('check', idWidth)}  ${pad('expected', 34)}  got`);
    for (const result of shown) {
      // A skipped check says why on its own line: what it needs.
      if (result.outcome === 'skipped' && !verbose) {
        lines.push(`${mark.skipped}  ${pad(result.id, idWidth)}  ${pad(result.expected, 34)}  ${result.problems.join('; ')}`);
        continue;
      }
      lines.push(row(result));
      if (result.outcome === 'passed') continue;
      lines.push(`${indent}${result.title}`);
      const problems = verbose ? result.problems : result.problems.filter((p) => !explained.has(p));
      for (const problem of problems) lines.push(`${indent}- ${problem}`);
      const alsoCauses = causes.flatMap((c, i) => (!verbose && result.outcome === 'failed' && c.ids.includes(result.id) ? [i + 1] : []));
      if (alsoCauses.length) lines.push(`${indent}- and cause ${alsoCauses.join(', ')} above`);
      if (result.outcome === 'failed' && result.curl && (verbose || !causes.some((c) => c.curl === result.curl))) lines.push(`${indent}${result.curl}`);
    }
  }
  if (report.notChecked.length && verbose) {
    lines.push('', 'Not checked:');
    const byWhy = new Map<string, string[]>();
    for (const { id, why } of report.notChecked) byWhy.set(why, [...(byWhy.get(why) ?? []), id]);
    for (const [why, ids] of byWhy) lines.push(`  ${ids.join(', ')}: ${why}`);
  } else if (report.notChecked.length) {
    const [first, ...rest] = idLines(report.notChecked.map((n) => n.id), 3, 90);
    lines.push('', `Not checked (--verbose says why): ${first}`, ...rest.map((line) => `  ${line}`));
  }
  const { passed } = report.summary;
  if (!verbose && passed) lines.push('', `${passed} check${passed === 1 ? '' : 's'} passed (--verbose lists ${passed === 1 ? 'it' : 'them'}).`);
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

/** The last line of every report: the counts and the verdict. */
export function summaryLine(report: ConformanceReport): string {
  const { passed, failed, skipped, requests, rateLimitWaits } = report.summary;
  const counts = `${passed} passed, ${failed} failed, ${skipped} skipped; ${requests} requests, ${rateLimitWaits} waits for Retry-After, ${(report.durationMs / 1000).toFixed(1)} s.`;
  if (report.conforms) return `Conforms: ${counts}`;
  const names = report.results.filter((r) => r.outcome === 'failed').map((r) => r.id);
  return `Does not conform: ${counts}\nFailed: ${names.length > 8 ? `${names.length} checks, listed above` : names.join(', ')}.`;
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
