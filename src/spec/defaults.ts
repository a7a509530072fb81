// Fills in the `default`s a schema declares, so no default is restated in code. What to fill is
// worked out once per schema (pointers resolved, branches chosen) and kept, so a request pays only
// for the copy.
import type { SpecValidator } from './schema-validator.js';

interface Schema {
  $ref?: string;
  type?: string | string[];
  default?: unknown;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
}

/** What `withDefaults` does for the schema at one pointer. */
type Plan =
  | { kind: 'none' }
  /** Of a oneOf (e.g. settings or null), the object branch is the one with defaults. */
  | { kind: 'branch'; pointer: string }
  | { kind: 'object'; fields: { name: string; fallback: unknown; pointer: string }[] };

const plans = new WeakMap<SpecValidator, Map<string, Plan>>();

function planFor(validator: SpecValidator, pointer: string): Plan {
  let byPointer = plans.get(validator);
  if (!byPointer) plans.set(validator, (byPointer = new Map()));
  let plan = byPointer.get(pointer);
  if (plan) return plan;
  const schema = validator.resolve(pointer);
  const node = schema.value as Schema | undefined;
  if (!node) plan = { kind: 'none' };
  else if (node.oneOf) {
    const i = node.oneOf.findIndex((_, i) => (validator.resolve(`${schema.pointer}/oneOf/${i}`).value as Schema).properties !== undefined);
    plan = i < 0 ? { kind: 'none' } : { kind: 'branch', pointer: `${schema.pointer}/oneOf/${i}` };
  } else {
    plan = {
      kind: 'object',
      fields: Object.keys(node.properties ?? {}).map((name) => {
        const at = `${schema.pointer}/properties/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        const property = validator.resolve(at).value as Schema;
        return { name, fallback: node.properties![name]!.default ?? property.default, pointer: at };
      }),
    };
  }
  byPointer.set(pointer, plan);
  return plan;
}

/** A copy of `value` with every absent property that has a `default` in the schema at `pointer` set to it. */
export function withDefaults<T>(validator: SpecValidator, pointer: string, value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const plan = planFor(validator, pointer);
  if (plan.kind === 'none') return value;
  if (plan.kind === 'branch') return withDefaults(validator, plan.pointer, value);
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const { name, fallback, pointer: at } of plan.fields) {
    if (out[name] === undefined && fallback !== undefined) out[name] = typeof fallback === 'object' && fallback !== null ? structuredClone(fallback) : fallback;
    else if (out[name] !== undefined) out[name] = withDefaults(validator, at, out[name]);
  }
  return out as T;
}
