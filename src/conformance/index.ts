// What `cloudrec-server/conformance` exports: the checks, to run from a user's own test suite.
export { runConformance, curlLine, ServerUnreachableError } from './run-conformance.js';
export type { CheckGroup, CheckResult, ConformanceOptions, ConformanceReport, ProgressEvent, ProjectCredentials } from './run-conformance.js';
export { formatJson, formatJunit, formatTable, summaryLine } from './report.js';
export { requestProblems, responseProblems } from './exchange-check.js';
