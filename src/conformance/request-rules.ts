// The rules a start request can break, derived from the request schema in the bundled spec: for
// every field each of its rules (type, enum, range, length, pattern, the numeric limits of
// mixResolution), every required field, unknown fields, the exclusion of audio-only and
// video-only, and the body itself (not JSON, not an object, too large, the wrong content type).
// Each is one request that breaks exactly that rule in an otherwise valid body, and the answer
// the spec gives it.
import { mixResolutionProblem } from '../server/start-request.js';
import { startRequestMaxBytes as maxBodyBytes } from '../spec/api-document.js';
import { exclusiveFields, requestProperties, requiredFields, validateRequest, type PropertySchema } from './request-schema.js';

/** What the spec says a server answers: a status and the error `code` of its body. */
export interface ExpectedAnswer {
  status: number;
  code: string;
}

/** One HTTP request to POST /v1/cloudRecord, as sent on the wire. */
export interface RawRequest {
  contentType?: string;
  body: string;
}

export interface RequestRule {
  /** Stable name of the check, e.g. `layout_mode.enum`. */
  id: string;
  /** The rule, in words: what the request breaks. */
  title: string;
  request: RawRequest;
  expected: ExpectedAnswer;
}

const invalid = { status: 400, code: 'invalid_parameter' };
const json = (body: unknown): RawRequest => ({ contentType: 'application/json', body: JSON.stringify(body) });

/** Values of one field that each break exactly one of its rules, named by the rule. */
function fieldBreakings(schema: PropertySchema): { rule: string; title: string; value: unknown }[] {
  const out: { rule: string; title: string; value: unknown }[] = [];
  if (schema.type === 'integer') {
    out.push({ rule: 'type', title: 'a string where an integer belongs ("1")', value: '1' });
    out.push({ rule: 'integer', title: 'a number that is not an integer (0.5)', value: 0.5 });
  }
  if (schema.type === 'string') out.push({ rule: 'type', title: 'a number where a string belongs (1)', value: 1 });
  if (schema.enum) {
    const outside = Math.max(...(schema.enum as number[])) + 1;
    out.push({ rule: 'enum', title: `a value outside ${schema.enum.join(', ')} (${outside})`, value: outside });
  } else {
    if (schema.minimum !== undefined) out.push({ rule: 'minimum', title: `below the minimum ${schema.minimum}`, value: schema.minimum - 1 });
    if (schema.maximum !== undefined) out.push({ rule: 'maximum', title: `above the maximum ${schema.maximum}`, value: schema.maximum + 1 });
  }
  if (schema.minLength) out.push({ rule: 'minLength', title: 'an empty string', value: '' });
  if (schema.maxLength !== undefined) {
    out.push({ rule: 'maxLength', title: `longer than ${schema.maxLength} characters`, value: 'a'.repeat(schema.maxLength + 1) });
  }
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    // A control character (NUL) where identifiers are concerned: joined into a key, it lets one
    // project's credentials pass for another's.
    const value = ['room/1', '360x640', 'app\u0000x', 'a b\n', '\u00e9'].find((v) => !pattern.test(v) && v.length <= (schema.maxLength ?? Infinity));
    if (value !== undefined) out.push({ rule: 'pattern', title: `not matching ${schema.pattern} (${JSON.stringify(value)})`, value });
  }
  const limits = schema['x-limits'];
  if (limits) {
    const fps = limits.frameRates[0]!;
    const candidates = [
      { rule: 'odd-side', title: 'an odd width', value: `${limits.minSide + 1},${limits.minSide * 2},${fps},${limits.minKbps}` },
      { rule: 'min-side', title: `a side under ${limits.minSide}`, value: `${limits.minSide - 2},${limits.minSide * 2},${fps},${limits.minKbps}` },
      { rule: 'max-side', title: `a side over ${limits.maxSide}`, value: `${limits.maxSide + 2},${limits.minSide},${fps},${limits.minKbps}` },
      { rule: 'max-pixels', title: `more than ${limits.maxPixels} pixels`, value: `${limits.maxSide},${limits.maxSide},${fps},${limits.minKbps}` },
      { rule: 'max-kbps', title: `a bitrate over ${limits.maxKbps} kbps`, value: `${limits.minSide * 2},${limits.minSide * 2},${fps},${limits.maxKbps + 1}` },
    ];
    // Only values the pattern lets through: these are the rules the pattern cannot state.
    const pattern = schema.pattern ? new RegExp(schema.pattern, 'u') : undefined;
    out.push(...candidates.filter((c) => (pattern ? pattern.test(c.value) : true) && mixResolutionProblem(c.value)));
    // The frame rates the pattern lists, probed with a value of the right shape at 25 (common, not allowed).
    const rate = 25;
    const offRate = `${limits.minSide * 2},${limits.minSide * 2},${rate},${limits.minKbps}`;
    if (!limits.frameRates.includes(rate) && !pattern?.test(offRate)) {
      out.push({ rule: 'frame-rate', title: `a frame rate not among ${limits.frameRates.join(', ')} (${rate})`, value: offRate });
    }
  }
  return out;
}

/** Every rule of the request, each as one request that breaks it and the answer the spec gives. */
export function requestRules(base: Record<string, unknown>): RequestRule[] {
  const rules: RequestRule[] = [];
  for (const [name, schema] of Object.entries(requestProperties)) {
    for (const { rule, title, value } of fieldBreakings(schema)) {
      const body = { ...base, [name]: value };
      rules.push({ id: `${name}.${rule}`, title: `${name}: ${title}`, request: json(body), expected: invalid });
    }
  }
  for (const name of requiredFields) {
    const { [name]: _left, ...body } = base;
    rules.push({ id: `${name}.required`, title: `${name}: missing (it is required)`, request: json(body), expected: invalid });
  }
  rules.push({ id: 'unknown-field', title: 'a field the request does not have (isAudioonly, a misspelt isAudioOnly)', request: json({ ...base, isAudioonly: 1 }), expected: invalid });
  rules.push({
    id: 'audio-only-and-video-only',
    title: `${Object.keys(exclusiveFields).join(' and ')} both 1`,
    request: json({ ...base, ...exclusiveFields }),
    expected: { status: 400, code: 'audio_only_and_video_only' },
  });
  // Each rule above must really be broken by its body, or the check would blame a good server.
  for (const rule of rules) {
    const body = JSON.parse(rule.request.body) as { mixResolution?: string };
    const mixProblem = typeof body.mixResolution === 'string' && validateRequest(body) ? mixResolutionProblem(body.mixResolution) : undefined;
    if (validateRequest(body) && !mixProblem) throw new Error(`The body of the rule ${rule.id} breaks no rule of the spec`);
  }
  const valid = JSON.stringify(base);
  rules.push(
    { id: 'body.malformed-json', title: 'a body that is not JSON (cut short)', request: { contentType: 'application/json', body: valid.slice(0, -5) }, expected: { status: 400, code: 'malformed_body' } },
    { id: 'body.not-an-object', title: 'a JSON body that is not an object (an array)', request: { contentType: 'application/json', body: `[${valid}]` }, expected: { status: 400, code: 'malformed_body' } },
    { id: 'body.too-large', title: `a body over ${maxBodyBytes} bytes`, request: json({ ...base, channel: 'a'.repeat(maxBodyBytes) }), expected: { status: 413, code: 'body_too_large' } },
    { id: 'content-type.text', title: 'a body sent as text/plain', request: { contentType: 'text/plain', body: valid }, expected: { status: 415, code: 'unsupported_media_type' } },
    { id: 'content-type.missing', title: 'a body sent with no Content-Type', request: { body: valid }, expected: { status: 415, code: 'unsupported_media_type' } },
  );
  return rules;
}
