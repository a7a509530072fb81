// Signed events (the spec's webhooks): a receiver checks one in one call. The signature is the
// spec's: `Cloudrec-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each v1 the HMAC-SHA256 of
// `<t>.<raw body>` under one signing secret. Web Crypto does the HMAC and its comparison (in
// constant time), so this runs on Node 18 and later, in browsers and on edge runtimes alike.
// (Node 18 has Web Crypto but not as a global of modules: there it is taken from node:crypto.)
import type { components } from '../../generated/types.js';
import { webhookRules } from '../../generated/webhook-rules.js';

/** Any event the service sends; `type` tells which. */
export type WebhookEvent =
  | components['schemas']['RecordingStartedEvent']
  | components['schemas']['RecordingCompletedEvent']
  | components['schemas']['RecordingFailedEvent'];

/** Why an event was refused: no usable signature header or body, no signature that holds, or signed too long ago. */
export type WebhookFailureReason = 'malformed' | 'bad_signature' | 'too_old';

export type WebhookVerification = { ok: true; event: WebhookEvent } | { ok: false; reason: WebhookFailureReason; message: string };

export interface VerifyWebhookOptions {
  /** Seconds an event's timestamp may be from now, either way (default: the spec's, 300). */
  toleranceSec?: number;
  /** The clock, in milliseconds (for tests). */
  now?: () => number;
}

/** Request headers as fetch (`Headers`) or Node (`req.headers`) give them. */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

const encoder = new TextEncoder();

// A name in a variable: bundlers for browsers leave it alone, and it is read only where there is no global.
const nodeCrypto = 'node:crypto';
let subtleCrypto: Promise<SubtleCrypto> | undefined;
const subtle = () =>
  (subtleCrypto ??= globalThis.crypto?.subtle
    ? Promise.resolve(globalThis.crypto.subtle)
    : (import(nodeCrypto) as Promise<{ webcrypto: { subtle: SubtleCrypto } }>).then((m) => m.webcrypto.subtle));

const headerOf = (headers: WebhookHeaders, name: string): string | undefined => {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const value = Object.entries(headers as Record<string, string | string[] | undefined>).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
};

const hmacKey = async (secret: string, usage: 'sign' | 'verify') =>
  (await subtle()).importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));

const signedText = (timestamp: number, body: string | Uint8Array) =>
  new Uint8Array([...encoder.encode(`${timestamp}.`), ...(typeof body === 'string' ? encoder.encode(body) : body)]);

/**
 * The `Cloudrec-Signature` value for `body` at `timestamp` (unix seconds), one `v1` per secret: what
 * the service sends, and what a receiver's tests can send to it.
 */
export async function signWebhook(body: string | Uint8Array, secrets: string | readonly string[], timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  const data = signedText(timestamp, body);
  const signatures = await Promise.all(
    [secrets].flat().map(async (secret) => {
      const mac = new Uint8Array(await (await subtle()).sign('HMAC', await hmacKey(secret, 'sign'), data));
      return `v1=${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    }),
  );
  return [`t=${timestamp}`, ...signatures].join(',');
}

const failure = (reason: WebhookFailureReason, message: string): WebhookVerification => ({ ok: false, reason, message });

/**
 * Checks an event as it arrived: `rawBody` exactly as received (before any JSON parsing), its
 * headers, and your signing secret (or the secrets you accept while rotating). Resolves with the
 * typed event, or with why it must be refused (answer it 400; the service retries it).
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<WebhookVerification> {
  const header = headerOf(headers, webhookRules.signatureHeader);
  const parts = header?.split(',').map((part) => part.trim().split('=', 2) as [string, string?]) ?? [];
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key, value]) => key === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '')).map(([, value]) => hexBytes(value!));
  if (!header || !Number.isInteger(timestamp) || signatures.length === 0) {
    return failure('malformed', `The ${webhookRules.signatureHeader} header is missing or not t=<unix seconds>,v1=<hex>.`);
  }
  const data = signedText(timestamp, rawBody);
  let holds = false;
  const webCrypto = await subtle();
  for (const key of await Promise.all([secret].flat().map((s) => hmacKey(s, 'verify')))) {
    for (const signature of signatures) holds = (await webCrypto.verify('HMAC', key, signature, data)) || holds;
  }
  if (!holds) return failure('bad_signature', 'No signature of the event holds under the given secret.');
  const tolerance = options.toleranceSec ?? webhookRules.toleranceSec;
  const ageSec = Math.abs((options.now ?? Date.now)() / 1000 - timestamp);
  if (ageSec > tolerance) return failure('too_old', `The event was signed ${Math.round(ageSec)} s from now, more than the ${tolerance} s allowed (a replay?).`);
  let event: unknown;
  try {
    event = JSON.parse(typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody));
  } catch {
    return failure('malformed', 'The body is not JSON.');
  }
  const fields = event as Record<string, unknown> | null;
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) return failure('malformed', 'The body is not a JSON object.');
  const missing = webhookRules.required.filter((name) => !(name in fields));
  if (missing.length) return failure('malformed', `The event lacks ${missing.join(', ')}.`);
  if (!(webhookRules.types as readonly unknown[]).includes(fields.type)) return failure('malformed', `The event type ${JSON.stringify(fields.type)} is not one the spec knows.`);
  const eventId = headerOf(headers, webhookRules.eventIdHeader);
  if (eventId !== undefined && eventId !== fields.id) return failure('malformed', `The ${webhookRules.eventIdHeader} header is not the event's id.`);
  return { ok: true, event: event as WebhookEvent };
}
