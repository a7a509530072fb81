// The answers of POST /v1/cloudRecord as the client checks them: for each documented status, the
// body's fields and their rules, flattened from the bundled spec ($ref followed, allOf merged).
// Written to generated/response-rules.ts so the client carries a few hundred bytes of rules, not
// the spec and a validator. A schema keyword the client's checker does not know fails the build,
// so no rule of the spec is dropped on the way.

// The shapes are the generated module's own (type-only, so generating needs no earlier output).
import type { BodyRule, FieldRule } from '../generated/response-rules.js';

type Schema = Record<string, unknown>;

/** The keywords of a field the client checks (src/client/response-check.ts). */
const fieldKeywords = new Set(['type', 'const', 'enum', 'minimum', 'maximum', 'minLength']);
/** Keywords that only document a schema. */
const documentation = new Set(['title', 'description', 'examples', 'example', 'x-enumDescriptions']);

function resolver(spec: Schema) {
  return function resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    if (!ref.startsWith('#/')) throw new Error(`response rules: only local $refs are followed, not ${ref}`);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (at as Schema)[key.replaceAll('~1', '/').replaceAll('~0', '~')], spec);
    return resolve(target as Schema);
  };
}

function fieldRule(parts: Schema[], where: string): FieldRule {
  const rule: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [keyword, value] of Object.entries(part)) {
      if (documentation.has(keyword)) continue;
      if (!fieldKeywords.has(keyword)) throw new Error(`response rules: ${where} uses ${keyword}, which the client does not check`);
      // Two enums for one field (the code's type, the status's codes): both hold, so keep what is in both.
      if (keyword === 'enum' && Array.isArray(rule.enum)) rule.enum = (rule.enum as unknown[]).filter((v) => (value as unknown[]).includes(v));
      else rule[keyword] = value;
    }
  }
  if (rule.type !== 'string' && rule.type !== 'integer') throw new Error(`response rules: ${where} has type ${String(rule.type)}`);
  return rule as unknown as FieldRule;
}

function bodyRule(schema: Schema, resolve: (s: Schema) => Schema, where: string): BodyRule {
  const parts = [resolve(schema)].flatMap((s) => (Array.isArray(s.allOf) ? (s.allOf as Schema[]).map(resolve) : [s]));
  const required = [...new Set(parts.flatMap((p) => (p.required as string[] | undefined) ?? []))];
  const closed = parts.some((p) => p.additionalProperties === false);
  const byField = new Map<string, Schema[]>();
  for (const part of parts) {
    for (const [name, field] of Object.entries((part.properties as Record<string, Schema> | undefined) ?? {})) {
      byField.set(name, [...(byField.get(name) ?? []), resolve(field)]);
    }
  }
  const fields = Object.fromEntries([...byField].map(([name, fieldParts]) => [name, fieldRule(fieldParts, `${where}.${name}`)]));
  return { required, closed, fields };
}

/** The TypeScript module with the rules of every documented answer of `method path`. */
export function responseRulesModule(spec: Schema, path: string, method: string): string {
  const resolve = resolver(spec);
  const operation = ((spec.paths as Schema)[path] as Schema)[method] as { responses: Record<string, Schema> };
  const rules = Object.fromEntries(
    Object.entries(operation.responses).map(([status, response]) => {
      const schema = (resolve(response).content as Record<string, { schema: Schema }>)['application/json']!.schema;
      return [status, bodyRule(schema, resolve, `${method.toUpperCase()} ${path} ${status}`)];
    }),
  );
  const version = (spec.info as { version: string }).version;
  return `/** The spec's version (\`info.version\`), which is also the client package's version. */
export const apiVersion = ${JSON.stringify(version)};

/** A field of an answer's body and the rules its value keeps. */
export interface FieldRule {
  type: 'string' | 'integer';
  const?: string | number;
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
}

/** The body of one documented answer: required fields, whether others may appear, each field's rule. */
export interface BodyRule {
  required: readonly string[];
  closed: boolean;
  fields: Readonly<Record<string, FieldRule>>;
}

/** Every documented status of \`${method.toUpperCase()} ${path}\` and the body the spec gives it. */
export const responseRules: Readonly<Record<string, BodyRule>> = ${JSON.stringify(rules, null, 2)};
`;
}
