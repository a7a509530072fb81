// `cloudrec start`: POST /v1/cloudRecord with one flag per request field, checked against the
// spec before anything is sent.
import { createClient, defaultRetry } from '../client/create-client.js';
import type { StartRecordingRequest } from '../types.js';
import { CliError, exitCodes } from './exit-codes.js';
import { baseUrlFlag, defaultUrl, parseFlags } from './flags.js';
import { fieldValue, flagHelp, requestFlags, requestProblems, startOperation } from './spec-flags.js';

export const startHelp = () => `Usage: cloudrec start --app_id <id> --project_id <id> --channel <name> --sign_key <key> [fields] [options]

${startOperation.summary}: POST /v1/cloudRecord.
${(startOperation.description ?? '').trim().split('\n\n')[0]}

Fields (from the spec's request schema; checked before sending). Each is also accepted in
kebab-case (--app-id, --is-audio-only, --mix-resolution):
${requestFlags.map(flagHelp).join('\n')}

Options:
  --url <url>          where the API is served (default ${defaultUrl})
  --timeoutMs <ms>     how long one attempt may take (default ${defaultRetry.timeoutMs})
  --maxRetries <n>     retries after no answer, 429 or a 5xx (default ${defaultRetry.maxRetries}; a repeated start is safe)
  --json               print the answer as JSON`;

/** The sign_key, masked wherever the request is echoed. */
const masked = (body: Record<string, unknown>) => ({ ...body, ...(body.sign_key !== undefined && { sign_key: '***' }) });

/** A flag that must be a whole number of at least `min`. */
function wholeNumber(name: string, value: string | boolean | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`--${name} must be a whole number from ${min} (got "${String(value)}").`, exitCodes.usage);
  return n;
}

export async function startCommand(args: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      ...Object.fromEntries(requestFlags.map((f) => [f.name, { type: 'string' as const }])),
      url: { type: 'string', default: defaultUrl },
      timeoutMs: { type: 'string' },
      maxRetries: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'start',
  );
  const url = baseUrlFlag(String(values.url));
  const timeoutMs = wholeNumber('timeoutMs', values.timeoutMs, 1);
  const maxRetries = wholeNumber('maxRetries', values.maxRetries, 0);
  const body = Object.fromEntries(
    requestFlags.filter((f) => typeof values[f.name] === 'string').map((f) => [f.name, fieldValue(f, values[f.name] as string)]),
  );
  const problems = requestProblems(body);
  if (problems.length) throw new CliError(`The request breaks the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`, exitCodes.usage);

  const client = createClient({ baseUrl: url, ...(timeoutMs !== undefined && { timeoutMs }), ...(maxRetries !== undefined && { maxRetries }) });
  const result = await client.startRecording(body as unknown as StartRecordingRequest);
  const tries = result.attempts > 1 ? ` after ${result.attempts} attempts` : '';
  if (values.json) {
    const common = { attempts: result.attempts, request_id: result.requestId };
    if (result.ok) print(JSON.stringify({ status: result.status, ...result.data, ...common }));
    else if (result.kind === 'api') print(JSON.stringify({ status: result.status, ...result.error, ...common }));
    else if (result.kind === 'unexpected-response') print(JSON.stringify({ status: result.status, unexpected: result.text, ...common }));
    else print(JSON.stringify({ error: result.kind, message: result.error.message, ...common }));
  }
  if (result.ok) {
    if (!values.json) print(`Recording task ${result.data.task_id} started for channel ${String(body.channel)}${tries} (${JSON.stringify(masked(body))}).`);
    return exitCodes.ok;
  }
  if (result.kind === 'api') {
    if (!values.json) print(`The API answered ${result.status} ${result.error.code}${tries}: ${result.error.message}`);
    return exitCodes.apiError;
  }
  if (result.kind === 'unexpected-response') {
    throw new CliError(`The server answered ${result.status} outside the spec${tries}: ${result.text ? result.text.slice(0, 500) : '(an empty body)'}`, exitCodes.apiError);
  }
  throw new CliError(`${result.error.message}${tries ? ` (${result.attempts} attempts)` : ''} Is the server running (\`cloudrec serve\`)?`, exitCodes.unreachable);
}
