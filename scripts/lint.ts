// `npm run lint`: Redocly lint of every API the project generates; any problem, error or warning, fails.
import { documents } from './generate.js';
import { redocly } from './redocly.js';

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { source: { ref: string }; pointer: string }[];
}

let errors = 0;
let warnings = 0;
for (const { api } of documents) {
  const run = redocly(['lint', api, '--format', 'json'], { allowFailure: true });
  const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Problem[] };
  for (const p of report.problems) {
    const where = p.location[0] ? `${p.location[0].source.ref}#${p.location[0].pointer}` : '';
    console.log(`${api}: ${p.severity} ${p.ruleId}: ${p.message} (${where})`);
  }
  errors += report.totals.errors;
  warnings += report.totals.warnings;
}
console.log(`redocly lint: ${errors} errors, ${warnings} warnings`);
process.exitCode = errors + warnings === 0 ? 0 : 1;
