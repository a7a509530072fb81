// `cloudrec start`: POST /v1/cloudRecord with one flag per request field, checked against the
// spec before anything is sent.
import { parseArgs } from 'node:util';
import { createClient } from '../client/create-client.js';
import type { StartRecordingRequest } from '../types.js';
import { CliError, exitCodes } from './exit-codes.js';
import { fieldValue, flagHelp, requestFlags, requestProblems, startOperation } from './spec-flags.js';

export const defaultUrl = 'http://127.0.0.1:8787';

export const startHelp = () => `Usage: cloudrec start --app_id <id> --project_id <id> --channel <name> --sign_key <key> [fields] [--url <url>] [--json]

${startOperation.summary}: POST /v1/cloudRecord.
${(startOperation.description ?? '').trim().split('\n\n')[0]}

Fields (from the spec's request schema; checked before sending):
${requestFlags.map(flagHelp).join('\n')}

Options:
  --url <url>  where the API is served (default ${defaultUrl})
  --json       print the answer as JSON`;

/** The sign_key, masked wherever the request is echoed. */
const masked = (body: Record<string, unknown>) => ({ ...body, ...(body.sign_key !== undefined && { sign_key: '***' }) });

export async function startCommand(args: string[], print: (line: string) => void): Promise<number> {
  const { values } = (() => {
    try {
      return parseArgs({
        args,
        strict: true,
        options: {
          ...Object.fromEntries(requestFlags.map((f) => [f.name, { type: 'string' as const }])),
          url: { type: 'string', default: defaultUrl },
          json: { type: 'boolean', default: false },
        },
      });
    } catch (error) {
      throw new CliError(`${(error as Error).message}\nSee \`cloudrec start --help\` for the fields.`, exitCodes.usage);
    }
  })();
  const given = values as Record<string, string | boolean | undefined>;
  const body = Object.fromEntries(
    requestFlags.filter((f) => typeof given[f.name] === 'string').map((f) => [f.name, fieldValue(f, given[f.name] as string)]),
  );
  const problems = requestProblems(body);
  if (problems.length) throw new CliError(`The request breaks the spec:\n${problems.map((p) => `  ${p}`).join('\n')}`, exitCodes.usage);

  const client = createClient({ baseUrl: values.url as string });
  const result = await client.startRecording(body as unknown as StartRecordingRequest);
  if (values.json) {
    print(JSON.stringify(result.ok ? { status: result.status, ...result.data } : result.kind === 'api' ? { status: result.status, ...result.error } : { error: result.kind, message: 'error' in result ? String(result.error) : undefined }));
  }
  if (result.ok) {
    if (!values.json) print(`Recording task ${result.data.task_id} started for channel ${String(body.channel)} (${JSON.stringify(masked(body))}).`);
    return exitCodes.ok;
  }
  if (result.kind === 'api') {
    if (!values.json) print(`The API answered ${result.status} ${result.error.code}: ${result.error.message}`);
    return exitCodes.apiError;
  }
  if (result.kind === 'network') {
    const cause = (result.error.cause as { code?: string; message?: string } | undefined);
    throw new CliError(`Could not reach ${values.url as string} (${cause?.code ?? cause?.message ?? result.error.message}). Is the server running (\`cloudrec serve\`)?`, exitCodes.unreachable);
  }
  throw new CliError(`The server answered ${result.status} outside the spec: ${JSON.stringify(result.body)}`, exitCodes.apiError);
}
