// Signed events as a receiver checks them (src/client/verify-webhook.ts): the spec's scheme, pinned
// against an HMAC computed here with node:crypto; rotation, replays, tampering and malformed input
// each refused with their reason; every event example of the spec accepted.
import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { signWebhook, verifyWebhook } from '../src/webhooks.js';
import { apiDocument } from '../src/spec/api-document.js';

const secret = 'whsec_receiver_test_secret';
const at = 1_764_754_267;
const now = () => (at + 10) * 1000;
const event = {
  id: 'evt_9b2e7d41c0a84f6e8d3a5b17',
  type: 'recording.completed',
  created_at: '2026-12-03T09:41:07.512Z',
  task_id: 40,
  app_id: 'demo-app',
  project_id: 'demo-project',
  channel: 'demo-room',
  data: { ended_at: '2026-12-03T09:40:30.000Z', end_reason: 'idle_timeout', bucket: 'recordings', files: [] },
};
const body = JSON.stringify(event);
const hmac = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

describe('signing', () => {
  test('is the spec\'s scheme: t=<unix seconds>,v1=HMAC-SHA256(secret, "<t>.<raw body>") in hex, one v1 a secret', async () => {
    expect(await signWebhook(body, secret, at)).toBe(`t=${at},v1=${hmac(secret, `${at}.${body}`)}`);
    expect(await signWebhook(body, ['new', 'old'], at)).toBe(`t=${at},v1=${hmac('new', `${at}.${body}`)},v1=${hmac('old', `${at}.${body}`)}`);
  });
});

describe('verifyWebhook', () => {
  const headers = async (signature?: string) => ({ 'Cloudrec-Signature': signature ?? (await signWebhook(body, secret, at)), 'cloudrec-event-id': event.id });

  test('accepts a signed event and returns it typed, from Node headers, fetch Headers, a string or bytes', async () => {
    const result = await verifyWebhook(body, await headers(), secret, { now });
    expect(result).toEqual({ ok: true, event });
    const fetchHeaders = new Headers(await headers());
    expect((await verifyWebhook(new TextEncoder().encode(body), fetchHeaders, secret, { now })).ok).toBe(true);
    if (result.ok && result.event.type === 'recording.completed') expect(result.event.data.bucket).toBe('recordings');
  });

  test('accepts every event example of the spec, signed', async () => {
    const schemas = (apiDocument.components as { schemas: Record<string, { examples?: object[] }> }).schemas;
    const examples = ['RecordingStartedEvent', 'RecordingCompletedEvent', 'RecordingFailedEvent'].flatMap((name) => schemas[name]!.examples!);
    expect(examples).toHaveLength(3);
    for (const example of examples) {
      const text = JSON.stringify(example);
      expect(await verifyWebhook(text, { 'cloudrec-signature': await signWebhook(text, secret, at) }, secret, { now })).toEqual({ ok: true, event: example });
    }
  });

  test('during a rotation, either secret holds; after it, the old one alone does not', async () => {
    const both = await signWebhook(body, ['new-secret', secret], at);
    expect((await verifyWebhook(body, { 'cloudrec-signature': both }, secret, { now })).ok).toBe(true);
    expect((await verifyWebhook(body, { 'cloudrec-signature': both }, 'new-secret', { now })).ok).toBe(true);
    const after = await signWebhook(body, 'new-secret', at);
    expect(await verifyWebhook(body, { 'cloudrec-signature': after }, secret, { now })).toMatchObject({ ok: false, reason: 'bad_signature' });
    // A receiver that lists both secrets while it moves over accepts either.
    expect((await verifyWebhook(body, { 'cloudrec-signature': after }, [secret, 'new-secret'], { now })).ok).toBe(true);
  });

  test('refuses a body changed by one character, and the wrong secret, as bad_signature', async () => {
    expect(await verifyWebhook(body.replace('40', '41'), await headers(), secret, { now })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await verifyWebhook(body, await headers(), 'another secret', { now })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  test('refuses an event signed outside the tolerance (a replay) as too_old, either way', async () => {
    const signed = await headers();
    expect(await verifyWebhook(body, signed, secret, { now: () => (at + 301) * 1000 })).toMatchObject({ ok: false, reason: 'too_old' });
    expect(await verifyWebhook(body, signed, secret, { now: () => (at - 301) * 1000 })).toMatchObject({ ok: false, reason: 'too_old' });
    expect((await verifyWebhook(body, signed, secret, { now: () => (at + 299) * 1000 })).ok).toBe(true);
    expect(await verifyWebhook(body, signed, secret, { now: () => (at + 61) * 1000, toleranceSec: 60 })).toMatchObject({ ok: false, reason: 'too_old' });
  });

  test.each([
    ['no signature header', {}],
    ['a header without a timestamp', { 'cloudrec-signature': 'v1=' + 'a'.repeat(64) }],
    ['a header without a v1', { 'cloudrec-signature': `t=${at}` }],
    ['a v1 that is not 64 hex digits', { 'cloudrec-signature': `t=${at},v1=xyz` }],
  ])('refuses %s as malformed', async (_what, given) => {
    expect(await verifyWebhook(body, given, secret, { now })).toMatchObject({ ok: false, reason: 'malformed' });
  });

  test.each([
    ['a signed body that is not JSON', 'not json'],
    ['a signed JSON array', '[]'],
    ['a signed event without its task_id', JSON.stringify({ ...event, task_id: undefined })],
    ['a signed event of a type the spec does not know', JSON.stringify({ ...event, type: 'recording.paused' })],
  ])('refuses %s as malformed', async (_what, text) => {
    const result = await verifyWebhook(text, { 'cloudrec-signature': await signWebhook(text, secret, at) }, secret, { now });
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
  });

  test("refuses an event whose Cloudrec-Event-Id header is not the body's id", async () => {
    const result = await verifyWebhook(body, { ...(await headers()), 'cloudrec-event-id': 'evt_other0123456789ab' }, secret, { now });
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
