// `cloudrec status <task_id>`: a task's state from the sandbox API; with --follow, a progress
// display until the task completes or fails.
import type { SchemaTask as Task } from '../../generated/sandbox-types.js';
import { CliError, exitCodes } from './exit-codes.js';
import { baseUrlFlag, defaultUrl, parseFlags } from './flags.js';

export const statusHelp = () => `Usage: cloudrec status <task_id> [--follow] [--url <url>] [--json]

A recording task's state, files and failure reason, from the reference server's sandbox API
(GET /sandbox/tasks/{task_id}).

Options:
  --follow     keep watching, with a progress display, until the task is completed or failed
  --interval   seconds between checks with --follow (default 0.5)
  --url <url>  where the server is (default ${defaultUrl})
  --token      the server's admin token, when it has one (default: $CLOUDREC_ADMIN_TOKEN)
  --json       print the task as JSON (with --follow: once, when it ends)`;

async function fetchTask(url: string, taskId: number, token: string | undefined): Promise<Task> {
  let response: Response;
  try {
    response = await fetch(`${url}/sandbox/tasks/${taskId}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (error) {
    const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
    throw new CliError(`Could not reach ${url} (${cause?.code ?? cause?.message ?? (error as Error).message}). Is the server running (\`cloudrec serve\`)?`, exitCodes.unreachable);
  }
  const body = (await response.json().catch(() => ({}))) as Task & { code?: string; message?: string };
  if (!response.ok) throw new CliError(`The server answered ${response.status} ${body.code ?? ''}: ${body.message ?? ''}`.trim(), exitCodes.apiError);
  return body;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** The task as lines of text. */
export function describeTask(task: Task): string[] {
  const lines = [
    `Task ${task.task_id}: ${task.state}${task.end_reason ? ` (ended: ${task.end_reason})` : ''}`,
    `  channel ${task.channel} of project ${task.project_id} (app ${task.app_id}), started ${task.created_at}${task.ended_at ? `, ended ${task.ended_at}` : ''}`,
  ];
  if (task.failure_reason) lines.push(`  failure: ${task.failure_reason}`);
  for (const file of task.files) {
    lines.push(`  ${file.uploaded ? 'uploaded' : 'pending '} ${file.name}  ${megabytes(file.bytes)}  ${file.duration_sec.toFixed(2)} s  → ${file.object_key}`);
  }
  return lines;
}

/** One line of progress: a bar when the step's total is known, else the amount done. */
export function progressLine(task: Task, width = 30): string {
  const p = task.progress;
  if (!p) return `${task.state}`;
  if (p.total > 0) {
    const share = Math.min(1, p.done / p.total);
    const filled = Math.round(share * width);
    return `${task.state}: ${p.step} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(share * 100)}%`;
  }
  return `${task.state}: ${p.step} ${p.done.toFixed(1)}`;
}

const progressKey = (task: Task) => {
  const p = task.progress;
  return `${task.state}|${p?.step ?? ''}|${p && p.total > 0 ? Math.floor((p.done / p.total) * 10) : ''}`;
};

export async function statusCommand(args: string[], print: (line: string) => void, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      follow: { type: 'boolean', default: false },
      interval: { type: 'string', default: '0.5' },
      url: { type: 'string', default: defaultUrl },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'status',
    true,
  );
  const url = baseUrlFlag(String(values.url));
  // The flag, or the same variable the server reads, so a token is not typed on every call.
  const token = typeof values.token === 'string' ? values.token : process.env.CLOUDREC_ADMIN_TOKEN;
  const taskId = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isSafeInteger(taskId) || taskId < 1) {
    throw new CliError('status takes one task_id, a positive integer: cloudrec status <task_id>', exitCodes.usage);
  }
  const interval = Number(values.interval);
  if (!(interval > 0)) throw new CliError('--interval: must be a number of seconds above 0', exitCodes.usage);

  let task = await fetchTask(url, taskId, token);
  if (values.follow) {
    let lastKey = '';
    while (task.state !== 'completed' && task.state !== 'failed') {
      // A terminal gets one line redrawn in place; a log gets a line per step and per tenth done.
      if (out.isTTY) out.write(`\r\x1b[2K${progressLine(task)}`);
      else if (progressKey(task) !== lastKey) print(progressLine(task));
      lastKey = progressKey(task);
      await new Promise((resolve) => setTimeout(resolve, interval * 1000));
      task = await fetchTask(url, taskId, token);
    }
    if (out.isTTY) out.write('\r\x1b[2K');
  }
  print(values.json ? JSON.stringify(task) : describeTask(task).join('\n'));
  return values.follow && task.state === 'failed' ? exitCodes.taskFailed : exitCodes.ok;
}
