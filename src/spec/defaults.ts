// Fills in the `default`s a schema declares, so no default is restated in code.
import type { SpecValidator } from './schema-validator.js';

interface Schema {
  $ref?: string;
  type?: string | string[];
  default?: unknown;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
}

/** A copy of `value` with every absent property that has a `default` in the schema at `pointer` set to it. */
export function withDefaults<T>(validator: SpecValidator, pointer: string, value: T): T {
  const schema = validator.resolve(pointer);
  const node = schema.value as Schema | undefined;
  if (!node || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  // Of a oneOf (e.g. settings or null), the object branch is the one with defaults.
  if (node.oneOf) {
    const i = node.oneOf.findIndex((branch, i) => {
      const resolved = validator.resolve(`${schema.pointer}/oneOf/${i}`).value as Schema;
      return resolved.properties !== undefined;
    });
    return i < 0 ? value : withDefaults(validator, `${schema.pointer}/oneOf/${i}`, value);
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const name of Object.keys(node.properties ?? {})) {
    const at = `${schema.pointer}/properties/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const property = validator.resolve(at).value as Schema;
    const own = node.properties![name]!;
    const fallback = own.default ?? property.default;
    if (out[name] === undefined && fallback !== undefined) out[name] = structuredClone(fallback);
    else if (out[name] !== undefined) out[name] = withDefaults(validator, at, out[name]);
  }
  return out as T;
}
