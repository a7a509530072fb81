// One attempt to deliver an event: a POST of its body alone to the webhook URL, on a connection of
// its own, to an address checked first; no redirect followed, no answer waited for beyond the
// timeout, nothing of the answer kept but its status.
import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicKind } from './webhook-address.js';

export interface SendOptions {
  timeoutMs: number;
  /** Whether loopback, private and link-local addresses may be sent to. */
  allowPrivate: boolean;
  /** Ends the attempt early (a shutdown). */
  signal?: AbortSignal;
}

/** What came of an attempt: the receiver's status, or why there was none, and how long it took. */
export interface SendResult {
  status: number | null;
  /** Why the event was not delivered; null for a 2xx. */
  error: string | null;
  duration_ms: number;
}

export type SendEvent = (url: string, body: string, headers: Record<string, string>, options: SendOptions) => Promise<SendResult>;

class Refused extends Error {}

// Connections are kept for the next event to the same receiver (a receiver gets many), each to the
// address checked for the attempt that opened it; an idle one is closed after 30 s.
const agentOptions = { keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 30_000 };
const agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };

/** The address to connect to for `host`: the first it resolves to, refused when any is not public (unless allowed). */
async function addressOf(host: string, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true, verbatim: true });
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const kind = nonPublicKind(address);
      if (kind) {
        throw new Refused(
          `refused: ${host === address ? address : `${host} resolves to ${address}`}, a ${kind} address; this service sends events to public addresses only (its operator can allow others: CLOUDREC_WEBHOOK_PRIVATE_ADDRESSES=allow)`,
        );
      }
    }
  }
  return addresses[0]!;
}

/** Posts `body` to `url`; never rejects: every outcome is a result. */
export const sendEvent: SendEvent = async (url, body, headers, options) => {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { status: null, error: `not a URL: ${url}`, duration_ms: 0 };
  }
  try {
    const resolved = await addressOf(target.hostname, options.allowPrivate);
    // The connection goes to the address checked above, whatever the name resolves to by then.
    const pinned: LookupFunction = (_host, lookupOptions, callback) => {
      if ((lookupOptions as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [resolved]);
      else callback(null, resolved.address, resolved.family);
    };
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: pinned,
          agent: agents[target.protocol as keyof typeof agents],
          signal: options.signal ? AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal]) : AbortSignal.timeout(options.timeoutMs),
        },
        (res: IncomingMessage) => {
          // Only the status is kept; the answer is read to its end (a few bytes, or the connection is
          // not kept) but never waited for.
          resolve(res.statusCode ?? 0);
          res.on('error', () => {});
          res.resume();
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const error =
      status >= 200 && status < 300 ? null
      : status >= 300 && status < 400 ? `answered ${status}, a redirect: redirects are not followed`
      : `answered ${status}`;
    return { status, error, duration_ms: took() };
  } catch (failure) {
    const error = failure as NodeJS.ErrnoException;
    const why =
      failure instanceof Refused ? error.message
      : options.signal?.aborted ? 'aborted: the service was stopping'
      : error.name === 'AbortError' || error.name === 'TimeoutError' ? `no answer within ${options.timeoutMs / 1000} s`
      : error.code === 'ENOTFOUND' ? `${target.hostname} does not resolve`
      : `could not connect: ${error.code ?? error.message}`;
    return { status: null, error: why, duration_ms: took() };
  }
};
