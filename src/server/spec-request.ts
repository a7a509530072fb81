// Reads a request the way an operation of a spec describes it: path and query parameters
// (coerced from text by their schema's type) and the JSON body, each validated by the spec's
// own schemas with its defaults applied.
import { withDefaults } from '../spec/defaults.js';
import { describeErrors, pointerSegment, type SpecValidator } from '../spec/schema-validator.js';
import { mediaType } from './start-request.js';
import type { SchemaSandboxError } from '../../generated/sandbox-types.js';

/** A failure of the sandbox API, answered as `{ code, message }`. */
export class SandboxFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: SchemaSandboxError['code'],
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  get body() {
    return { code: this.code, message: this.message };
  }
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
}

export interface SpecRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/** The request as the operation `method path` of the spec reads it; throws SandboxFailure otherwise. */
export function readSpecRequest(
  validator: SpecValidator,
  path: string,
  method: string,
  raw: { params: Record<string, string>; query: Record<string, string | string[] | undefined>; contentType?: string; body?: string },
): SpecRequest {
  const pathItem = `/paths/${pointerSegment(path)}`;
  const operation = `${pathItem}/${method.toLowerCase()}`;
  const out: SpecRequest = { params: {}, query: {}, body: undefined };
  const known = new Set<string>();

  for (const at of [`${pathItem}/parameters`, `${operation}/parameters`]) {
    const list = (validator.resolve(at).value ?? []) as unknown[];
    list.forEach((_, i) => {
      const parameter = validator.resolve(`${at}/${i}`);
      const { name, in: where, required } = parameter.value as Parameter;
      known.add(name);
      const text = where === 'path' ? raw.params[name] : where === 'query' ? raw.query[name] : undefined;
      if (Array.isArray(text)) throw new SandboxFailure(400, 'invalid_parameter', `${name}: must be given once`);
      if (text === undefined) {
        if (required) throw new SandboxFailure(400, 'invalid_parameter', `${name}: is required`);
        return;
      }
      const schema = validator.resolve(`${parameter.pointer}/schema`);
      const type = (schema.value as { type?: string }).type;
      const value = type === 'integer' || type === 'number' ? (/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text) : text;
      const validate = validator.schemaAt(schema.pointer);
      if (!validate(value)) {
        const why = describeErrors(validate.errors).map((line) => line.replace(/^[^:]*: /, ''));
        throw new SandboxFailure(400, 'invalid_parameter', `${name}: ${why.join('; ')}`);
      }
      (where === 'path' ? out.params : out.query)[name] = value;
    });
  }

  // Like unknown body fields, an unknown query parameter is an error, never silently ignored.
  const unknown = Object.keys(raw.query).filter((name) => !(name in out.query) && !known.has(name));
  if (unknown.length) {
    const names = [...known].filter((name) => !(name in raw.params));
    throw new SandboxFailure(400, 'invalid_parameter', `${unknown.join(', ')}: is not a parameter of this operation${names.length ? ` (it has: ${names.join(', ')})` : ''}`);
  }

  const body = validator.resolve(`${operation}/requestBody`).value;
  if (body !== undefined) {
    const type = mediaType(raw.contentType);
    const validate = validator.requestBody(path, method, type);
    if (!validate) throw new SandboxFailure(415, 'unsupported_media_type', `The body must be sent as application/json, not ${type || 'nothing'}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.body ?? '');
    } catch (e) {
      throw new SandboxFailure(400, 'malformed_body', `The body is not valid JSON: ${(e as Error).message}`);
    }
    if (!validate(parsed)) throw new SandboxFailure(400, 'invalid_parameter', describeErrors(validate.errors).join('; '));
    out.body = withDefaults(validator, `${operation}/requestBody/content/application~1json/schema`, parsed);
  }
  return out;
}
