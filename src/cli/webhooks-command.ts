// `cloudrec webhooks listen|send`: try a receiver of the service's events locally, or test one in
// CI. `send` posts an example event of the spec, signed as the service signs it; `listen` prints
// each event it receives and whether its signature holds.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiDocument } from '../spec/api-document.js';
import { apiVersion } from '../../generated/response-rules.js';
import { webhookRules } from '../../generated/webhook-rules.js';
import { signWebhook, verifyWebhook, type WebhookEvent } from '../client/verify-webhook.js';
import { CliError, exitCodes } from './exit-codes.js';
import { parseFlags } from './flags.js';

export const webhooksHelp = () => `Usage: cloudrec webhooks listen --secret <secret> [--port 8790] [--host 127.0.0.1]
       cloudrec webhooks send --url <url> --secret <secret> [--event recording.completed] [--old-secret <secret>]

listen  receives events on http://<host>:<port>/ and prints each one and whether its signature
        holds under --secret (answering 204, or 400 when it does not); until Ctrl-C.
send    posts the spec's example of --event (${webhookRules.types.join(', ')}) to --url,
        with a new id and the time now, signed with --secret (and --old-secret too, as during a
        rotation); exit 0 when the receiver answers 2xx within ${delivery().timeoutSec} s, 1 otherwise, 3 when it
        cannot be reached. No redirect is followed, as the service follows none.`;

function delivery() {
  return (apiDocument as unknown as { 'x-webhookDelivery': { timeoutSec: number } })['x-webhookDelivery'];
}

/** The spec's example of each event type, by type. */
function examples(): Map<string, WebhookEvent> {
  const schemas = (apiDocument.components as { schemas: Record<string, { examples?: WebhookEvent[] }> }).schemas;
  const found = new Map<string, WebhookEvent>();
  for (const schema of Object.values(schemas)) for (const example of schema.examples ?? []) if ((webhookRules.types as readonly unknown[]).includes((example as { type?: unknown }).type)) found.set(example.type, example);
  return found;
}

/** One event as lines: its type, id and task, and what it carries. */
export function describeEvent(event: WebhookEvent): string[] {
  const lines = [`${event.type} ${event.id}: task ${event.task_id} of project ${event.project_id} (app ${event.app_id}), channel ${event.channel}`];
  if (event.type === 'recording.completed') {
    lines.push(`  ended ${event.data.ended_at} (${event.data.end_reason}); in bucket ${event.data.bucket}:`);
    for (const file of event.data.files) lines.push(`    ${file.object_key}  ${file.bytes} bytes  ${file.duration_sec} s`);
  }
  if (event.type === 'recording.failed') lines.push(`  reason: ${event.data.reason}`);
  return lines;
}

async function listen(args: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseFlags(args, { secret: { type: 'string' }, port: { type: 'string', default: '8790' }, host: { type: 'string', default: '127.0.0.1' } }, 'webhooks listen');
  if (typeof values.secret !== 'string' || !values.secret) throw new CliError('--secret is required: the signing secret the events are signed with.', exitCodes.usage);
  const secret = values.secret;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void verifyWebhook(new Uint8Array(Buffer.concat(chunks)), req.headers, secret).then((verified) => {
        const at = new Date().toISOString();
        if (verified.ok) {
          print(`${at} signature holds: ${describeEvent(verified.event).join('\n')}`);
          res.writeHead(204).end();
        } else {
          print(`${at} REFUSED (${verified.reason}): ${verified.message}`);
          res.writeHead(400, { 'content-type': 'text/plain' }).end(verified.message);
        }
      }, (error: unknown) => {
        print(`could not check an event: ${(error as Error).message}`);
        res.writeHead(500).end();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliError(error.code === 'EADDRINUSE' ? `port ${String(values.port)} is in use: choose another with --port.` : error.message, exitCodes.usage)),
    );
    server.listen(Number(values.port), String(values.host), resolve);
  });
  const { port } = server.address() as AddressInfo;
  print(`Listening for events on http://${String(values.host)}:${port}/ (Ctrl-C to stop). Send one with:\n  cloudrec webhooks send --url http://${String(values.host)}:${port}/ --secret <secret>`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => resolve()));
  });
  return exitCodes.ok;
}

async function send(args: string[], print: (line: string) => void): Promise<number> {
  const flags = { url: { type: 'string' }, secret: { type: 'string' }, 'old-secret': { type: 'string' }, event: { type: 'string', default: 'recording.completed' } } as const;
  const { values } = parseFlags(args, flags, 'webhooks send');
  if (typeof values.url !== 'string' || typeof values.secret !== 'string' || !values.secret) throw new CliError('--url and --secret are required.', exitCodes.usage);
  const example = examples().get(String(values.event));
  if (!example) throw new CliError(`--event must be one of ${webhookRules.types.join(', ')}, not ${String(values.event)}.`, exitCodes.usage);
  const event = { ...example, id: `evt_${randomBytes(12).toString('hex')}`, created_at: new Date().toISOString() };
  const body = JSON.stringify(event);
  const secrets = typeof values['old-secret'] === 'string' ? [values.secret, values['old-secret']] : [values.secret];
  let answer: Response;
  try {
    answer = await fetch(values.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(delivery().timeoutSec * 1000),
      headers: {
        'content-type': 'application/json',
        'user-agent': `cloudrec-webhooks/${apiVersion}`,
        [webhookRules.signatureHeader]: await signWebhook(body, secrets),
        [webhookRules.eventIdHeader]: event.id,
      },
      body,
    });
  } catch (error) {
    const cause = (error as Error).cause as { code?: string } | undefined;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${delivery().timeoutSec} s` : (cause?.code ?? (error as Error).message);
    throw new CliError(`Could not deliver ${event.type} ${event.id} to ${values.url}: ${why}.`, exitCodes.unreachable);
  }
  const received = answer.status >= 200 && answer.status < 300;
  print(`${event.type} ${event.id} → ${values.url}: ${answer.status}${received ? ' (received)' : ' (not received: the service would retry it)'}`);
  return received ? exitCodes.ok : exitCodes.apiError;
}

export async function webhooksCommand(args: string[], print: (line: string) => void): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'listen') return listen(rest, print);
  if (action === 'send') return send(rest, print);
  throw new CliError(`say listen or send, e.g. cloudrec webhooks listen --secret <secret>. See \`cloudrec webhooks --help\`.`, exitCodes.usage);
}
