// `cloudrec conformance`: runs the conformance checks against any server of the API and reports
// them as a table, JUnit XML or JSON. Exit 0 when it conforms, 1 when not, 2 on a usage error.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ConformanceOptions, ProgressEvent, ProjectCredentials } from '../conformance/run-conformance.js';
import { CliError, exitCodes } from './exit-codes.js';
import { baseUrlFlag, parseFlags } from './flags.js';

export const conformanceHelp = () => `Usage: cloudrec conformance --base-url <url> [options]

Checks a server of POST /v1/cloudRecord against the spec: every rule of the request broken alone
(each must get its documented status and error code), unknown credentials, the caller's
X-Request-Id, paths and methods outside the API (404), and requests generated from the schema
(valid ones and ones that break one rule). Every answer's status, headers, content type and body
are checked against the spec. With a project's credentials it also checks a success, an identical
repeat (the same task_id), a repeat with other settings (409) and the app's rate limit (a burst
over it is refused 429 with Retry-After; an identical repeat is not counted): this starts a real
recording in that channel.

The report leads with the failures grouped by cause (a header missing from every answer is one
entry), then each other failure with the curl line that shows it, then what was not checked.

Options:
  --base-url <url>        the server to check, e.g. http://127.0.0.1:8787 (required)
  --app-id, --project-id, --sign-key, --channel
                          a project ready to record and a channel with a user in it
                          (--sign-key defaults to $CLOUDREC_SIGN_KEY)
  --recording-off-project <app_id,project_id,sign_key>   a project with recording switched off
  --no-storage-project <app_id,project_id,sign_key>      a project with no object storage
  --empty-channel <name>  a channel of the project with nobody in it
  --config <file.json>    any of the above as JSON: {"baseUrl", "credentials": {app_id, project_id,
                          sign_key, channel}, "fixtures": {"recordingOff", "noStorage", "emptyChannel"}}
  --seed <n>              the seed of the generated requests (default: random, printed)
  --runs <n>              generated requests a property (default 100)
  --profile <name>        server (default): every check; mock: only what a stateless mock of the
                          spec can honour (the schema's rules, judged by status), the rest listed
                          as not checked
  --rate-limit <n>        the server's start requests a second for one app_id (default: the
                          spec's); the burst check sends twice that and one at once
  --max-rps <n>           at most this many requests a second (default: no limit; a 429 or 503
                          with Retry-After is always waited out and sent again; the rate-limit
                          burst is not paced)
  --timeout-ms <n>        how long one request may take (default 10000)
  --reporter <name>       table (default), junit or json
  --output <file>         write the report there instead of to standard output
  --verbose               list the passed checks and every failed one in the table

Exit codes: 0 conforms, 1 does not conform, 2 bad command line, 3 no answer from the server.`;

const flags = {
  'base-url': { type: 'string' },
  url: { type: 'string' },
  app_id: { type: 'string' },
  project_id: { type: 'string' },
  sign_key: { type: 'string' },
  channel: { type: 'string' },
  'recording-off-project': { type: 'string' },
  'no-storage-project': { type: 'string' },
  'empty-channel': { type: 'string' },
  config: { type: 'string' },
  seed: { type: 'string' },
  runs: { type: 'string' },
  'max-rps': { type: 'string' },
  'timeout-ms': { type: 'string' },
  reporter: { type: 'string', default: 'table' },
  profile: { type: 'string' },
  'rate-limit': { type: 'string' },
  verbose: { type: 'boolean' },
  output: { type: 'string' },
} as const;

const usage = (message: string) => new CliError(message, exitCodes.usage);

function positiveInteger(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw usage(`--${name} must be a whole number (got "${String(value)}").`);
  return n;
}

function project(name: string, value: string | boolean | undefined): ProjectCredentials | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',');
  if (parts.length !== 3 || parts.some((p) => p === '')) throw usage(`--${name} takes app_id,project_id,sign_key (got ${parts.length} parts); use --config for values with commas.`);
  const [app_id, project_id, sign_key] = parts as [string, string, string];
  return { app_id, project_id, sign_key };
}

function readConfig(file: string): Partial<ConformanceOptions> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<ConformanceOptions>;
  } catch (error) {
    throw usage(`--config ${file}: ${(error as Error).message}`);
  }
}

const isFolder = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The options the command line and the config file give (the command line wins). */
export function conformanceOptions(args: string[], env: NodeJS.ProcessEnv = process.env): { options: ConformanceOptions; reporter: string; output?: string; verbose: boolean } {
  const { values } = parseFlags(args, flags, 'conformance');
  const config = typeof values.config === 'string' ? readConfig(values.config) : {};
  const given = values['base-url'] ?? values.url ?? config.baseUrl;
  if (typeof given !== 'string') throw usage('--base-url is required: the address of the server to check, e.g. --base-url http://127.0.0.1:8787.');
  const baseUrl = baseUrlFlag(given);
  const ids = ['app_id', 'project_id', 'sign_key', 'channel'] as const;
  const fromFlags = Object.fromEntries(ids.map((id) => [id, values[id] ?? (id === 'sign_key' ? env.CLOUDREC_SIGN_KEY : undefined)]).filter(([, v]) => v !== undefined));
  const credentials = { ...config.credentials, ...fromFlags } as Partial<NonNullable<ConformanceOptions['credentials']>>;
  const missing = ids.filter((id) => typeof credentials[id] !== 'string' || credentials[id] === '');
  const anyGiven = Object.keys(fromFlags).some((k) => k !== 'sign_key') || config.credentials;
  if (anyGiven && missing.length) throw usage(`the project's checks need all of --app-id, --project-id, --sign-key and --channel; missing: ${missing.map((m) => `--${m.replace('_', '-')}`).join(', ')}.`);
  const reporter = String(values.reporter);
  if (!['table', 'junit', 'json'].includes(reporter)) throw usage(`--reporter must be table, junit or json (got "${reporter}").`);
  const profile = String(values.profile ?? config.profile ?? 'server');
  if (profile !== 'server' && profile !== 'mock') throw usage(`--profile must be server or mock (got "${profile}").`);
  const rateLimit = positiveInteger('rate-limit', values['rate-limit']) ?? config.rateLimitPerSec;
  if (rateLimit === 0) throw usage('--rate-limit must be 1 or more.');
  const options: ConformanceOptions = {
    baseUrl,
    credentials: anyGiven ? (credentials as ConformanceOptions['credentials']) : undefined,
    fixtures: {
      ...config.fixtures,
      ...(values['recording-off-project'] !== undefined && { recordingOff: project('recording-off-project', values['recording-off-project']) }),
      ...(values['no-storage-project'] !== undefined && { noStorage: project('no-storage-project', values['no-storage-project']) }),
      ...(typeof values['empty-channel'] === 'string' && { emptyChannel: values['empty-channel'] }),
    },
    profile,
    rateLimitPerSec: rateLimit,
    seed: positiveInteger('seed', values.seed) ?? config.seed,
    runs: positiveInteger('runs', values.runs) ?? config.runs,
    maxRps: positiveInteger('max-rps', values['max-rps']) ?? config.maxRps,
    timeoutMs: positiveInteger('timeout-ms', values['timeout-ms']) ?? config.timeoutMs,
  };
  const output = typeof values.output === 'string' ? values.output : undefined;
  // Said before the run, not after it.
  if (output !== undefined && !isFolder(dirname(resolve(output)))) throw usage(`--output ${output}: the folder ${dirname(resolve(output))} does not exist.`);
  return { options, reporter, output, verbose: values.verbose === true };
}

/** A line of progress on a terminal (stderr), rewritten in place; nothing when not a terminal. */
function progressLine(stream: NodeJS.WriteStream) {
  if (!stream.isTTY) return undefined;
  return (event: ProgressEvent) => {
    const text =
      event.kind === 'wait'
        ? `waiting ${event.seconds} s: the server answered ${event.status} with Retry-After ${event.seconds}`
        : `[${String(event.done).padStart(3)}/${event.total}] ${event.result.outcome === 'failed' ? 'FAIL' : 'ok  '} ${event.result.id}`;
    // A terminal that reports no width (0, under `script` or some CI consoles) is taken as 80 wide.
    stream.write(`\r\u001b[2K${text.slice(0, (stream.columns || 80) - 1)}`);
  };
}

export async function conformanceCommand(args: string[], print: (line: string) => void): Promise<number> {
  const { options, reporter, output, verbose } = conformanceOptions(args);
  const { runConformance, ServerUnreachableError } = await import('../conformance/run-conformance.js');
  const { formatJson, formatJunit, formatTable, summaryLine } = await import('../conformance/report.js');
  const progress = progressLine(process.stderr);
  const report = await runConformance({ ...options, onProgress: progress }).catch((error: unknown) => {
    if (error instanceof ServerUnreachableError) throw new CliError(error.message, exitCodes.unreachable);
    throw error;
  });
  if (progress) process.stderr.write('\r\u001b[2K');
  const text = reporter === 'junit' ? formatJunit(report) : reporter === 'json' ? formatJson(report) : formatTable(report, { verbose });
  if (output) {
    try {
      writeFileSync(output, text);
    } catch (error) {
      print(text.trimEnd());
      throw new CliError(`--output ${output}: cannot write the report there (${(error as Error).message}); it is printed above.`, exitCodes.usage);
    }
    print(`${summaryLine(report)}\nReport written to ${output}.`);
  } else {
    print(text.trimEnd());
  }
  return report.conforms ? exitCodes.ok : exitCodes.apiError;
}
