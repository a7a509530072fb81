// Checks an answer's body against the rules the spec gives its status (generated/response-rules.ts).
import type { BodyRule, FieldRule } from '../../generated/response-rules.js';

function fieldHolds(rule: FieldRule, value: unknown): boolean {
  if (rule.type === 'integer' ? !Number.isSafeInteger(value) : typeof value !== 'string') return false;
  if (rule.const !== undefined && value !== rule.const) return false;
  if (rule.enum && !rule.enum.includes(value as string | number)) return false;
  if (typeof value === 'number') return value >= (rule.minimum ?? -Infinity) && value <= (rule.maximum ?? Infinity);
  return (value as string).length >= (rule.minLength ?? 0);
}

/** True when `body` is an object with the required fields, each keeping its rule, and no other field where none is allowed. */
export function bodyHolds(rule: BodyRule, body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const fields = body as Record<string, unknown>;
  return (
    rule.required.every((name) => name in fields) &&
    Object.entries(fields).every(([name, value]) => (rule.fields[name] ? fieldHolds(rule.fields[name], value) : !rule.closed))
  );
}
