// fast-check arbitraries for request bodies, derived from the request schema in the bundled spec:
// valid bodies, and bodies that break exactly one of the schema's rules.
import fc from 'fast-check';
import type { MixLimits } from '../server/start-request.js';
import { exclusiveFields, requestProperties as properties, requiredFields, validateRequest, type PropertySchema as Schema } from './request-schema.js';

export { validateRequest } from './request-schema.js';
const required = new Set(requiredFields);

const even = (min: number, max: number) => fc.integer({ min: min / 2, max: max / 2 }).map((n) => n * 2);

/** A `width,height,fps,kbps` value inside the limits the spec states in `x-limits`. */
function mixResolution(limits: MixLimits) {
  return fc
    .tuple(even(limits.minSide, limits.maxSide), even(limits.minSide, limits.maxSide))
    .filter(([w, h]) => w * h <= limits.maxPixels)
    .chain(([w, h]) =>
      fc
        .tuple(fc.constantFrom(...limits.frameRates), fc.integer({ min: limits.minKbps, max: limits.maxKbps }))
        .map(([fps, kbps]) => `${w},${h},${fps},${kbps}`),
    );
}

function validValue(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema['x-limits']) return mixResolution(schema['x-limits']);
  if (schema.type === 'integer') return fc.integer({ min: schema.minimum, max: schema.maximum });
  const length = { minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 64 };
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    return fc
      .stringMatching(pattern)
      .filter((s) => s.length >= length.minLength && s.length <= length.maxLength);
  }
  return fc.string({ ...length, unit: 'grapheme-ascii' });
}

/** Bodies the schema accepts, with any subset of the optional fields. */
export const validBody: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, validValue(schema)])),
    { requiredKeys: [...required] },
  )
  .filter((body) => validateRequest(body) === true);

/** One rule of the schema broken in an otherwise valid body: which rule, and how. */
export interface BrokenBody {
  rule: string;
  body: Record<string, unknown>;
}

// Printable ASCII and, one time in four, a character some pattern refuses: a control character
// (the Identifier pattern allows every printable one), a slash, a space, a letter beyond ASCII.
const patternBreakingUnit = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }), weight: 3 },
  { arbitrary: fc.constantFrom('\u0000', '\u0001', '\n', '\u001f', '\u007f', '\u0085', '/', ' ', '\u00e9'), weight: 1 },
);

/** Values that break one rule of `schema` each, as a one-field patch of a body. */
function breakings(name: string, schema: Schema): fc.Arbitrary<Record<string, unknown>>[] {
  const out: fc.Arbitrary<unknown>[] = [];
  if (schema.type === 'integer') out.push(fc.integer({ min: 0, max: 2 }).map(String), fc.constant(0.5));
  if (schema.type === 'string') out.push(fc.integer(), fc.constant(null), fc.constant(true));
  if (schema.enum) {
    const top = Math.max(...(schema.enum as number[]));
    out.push(fc.oneof(fc.integer({ min: top + 1, max: top + 1000 }), fc.integer({ min: -1000, max: -1 })));
  }
  if (schema.minimum !== undefined) out.push(fc.integer({ min: schema.minimum - 1000, max: schema.minimum - 1 }));
  if (schema.maximum !== undefined) out.push(fc.integer({ min: schema.maximum + 1, max: schema.maximum + 1000 }));
  if (schema.minLength) out.push(fc.constant(''));
  if (schema.maxLength !== undefined) {
    out.push(fc.integer({ min: schema.maxLength + 1, max: schema.maxLength + 40 }).map((n) => 'a'.repeat(n)));
  }
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    out.push(fc.string({ minLength: 1, maxLength: schema.maxLength ?? 32, unit: patternBreakingUnit }).filter((s) => !pattern.test(s)));
  }
  return out.map((arbitrary) => arbitrary.map((value) => ({ [name]: value })));
}

/** Bodies that break exactly one rule of the schema; every one is checked to be invalid. */
export const brokenBody: fc.Arbitrary<BrokenBody> = fc
  .tuple(
    validBody,
    fc.oneof(
      // A required field missing.
      ...[...required].map((name) => fc.constant({ rule: `${name} is required`, remove: name, add: {} })),
      // A field with a value its schema does not allow.
      ...Object.entries(properties).flatMap(([name, schema]) =>
        breakings(name, schema).map((a) => a.map((add) => ({ rule: `${name} breaks its schema`, remove: undefined, add }))),
      ),
      // A field the schema does not have (a typo of a real one, or anything else).
      fc
        .oneof(fc.constant('isAudioonly'), fc.string({ minLength: 1, maxLength: 20 }))
        .filter((name) => !(name in properties))
        .map((name) => ({ rule: `unknown field ${name}`, remove: undefined, add: { [name]: 1 } })),
      // The `not` rule: the fields it forbids together, all set.
      fc.constant({
        rule: 'the not rule',
        remove: undefined,
        add: exclusiveFields,
      }),
    ),
  )
  .map(([body, change]) => {
    const broken: Record<string, unknown> = { ...body, ...change.add };
    if (change.remove) delete broken[change.remove];
    return { rule: change.rule, body: broken };
  });
