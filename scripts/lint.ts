// `npm run lint`: Redocly lint over every API in redocly.yaml; any problem, error or warning, fails.
import { redocly } from './redocly.js';

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { source: { ref: string }; pointer: string }[];
}

const run = redocly(['lint', '--format', 'json'], { allowFailure: true });
const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Problem[] };
for (const p of report.problems) {
  const where = p.location[0] ? `${p.location[0].source.ref}#${p.location[0].pointer}` : '';
  console.log(`${p.severity} ${p.ruleId}: ${p.message} (${where})`);
}
const { errors, warnings } = report.totals;
console.log(`redocly lint: ${errors} errors, ${warnings} warnings`);
process.exitCode = errors + warnings === 0 ? 0 : 1;
