import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** An OpenAPI 3.1 document, as far as validation needs to see it. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject | unknown>>;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

interface MediaTypeObject {
  schema?: unknown;
  examples?: Record<string, { value?: unknown }>;
}

export interface OperationObject {
  operationId?: string;
  requestBody?: { required?: boolean; content: Record<string, MediaTypeObject> };
  responses: Record<string, { content?: Record<string, MediaTypeObject>; headers?: Record<string, { required?: boolean }> }>;
}

/** Validators compiled from one OpenAPI document, looked up by JSON pointer into it. */
export interface SpecValidator {
  /** The validator of the schema at `pointer` (e.g. `/components/schemas/Error`). */
  schemaAt(pointer: string): ValidateFunction;
  /** The operation at `path` and `method`, or undefined when the spec has none. */
  operation(path: string, method: string): OperationObject | undefined;
  /** The value at `pointer`, following local `$ref`s, with the pointer where it was found. */
  resolve(pointer: string): { pointer: string; value: unknown };
  /** The validator of the request body of an operation, for a content type. */
  requestBody(path: string, method: string, contentType: string): ValidateFunction | undefined;
  /** The validator of a documented response body, or undefined when that status is not documented. */
  responseBody(path: string, method: string, status: number, contentType: string): ValidateFunction | undefined;
}

/** Escapes one JSON-pointer segment (RFC 6901). */
export function pointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Compiles validators from an OpenAPI 3.1 document. The document itself is added to Ajv as
 * one schema, so its internal `$ref`s resolve exactly as written; OpenAPI's own keywords
 * (`example`, `x-*`, ...) are ignored rather than rejected.
 */
export function createSpecValidator(document: OpenApiDocument): SpecValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  const base = 'openapi.json';
  ajv.addSchema(document as object, base);

  const cache = new Map<string, ValidateFunction>();
  const schemaAt = (pointer: string): ValidateFunction => {
    let validate = cache.get(pointer);
    if (!validate) {
      validate = ajv.getSchema(`${base}#${pointer}`);
      if (!validate) throw new Error(`The spec has no schema at ${pointer}`);
      cache.set(pointer, validate);
    }
    return validate;
  };
  // Walks the pointer segment by segment, jumping through every local `$ref` on the way.
  const resolve = (pointer: string): { pointer: string; value: unknown } => {
    let at = { pointer: '', value: document as unknown };
    const follow = () => {
      const ref = (at.value as { $ref?: unknown } | undefined)?.$ref;
      if (typeof ref === 'string' && ref.startsWith('#/')) at = resolve(ref.slice(1));
    };
    for (const segment of pointer.split('/').slice(1)) {
      follow();
      const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
      const parent = at.value;
      at = {
        pointer: `${at.pointer}/${segment}`,
        value: typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined,
      };
    }
    follow();
    return at;
  };
  const operation = (path: string, method: string) =>
    document.paths[path]?.[method.toLowerCase()] as OperationObject | undefined;
  const operationPointer = (path: string, method: string) =>
    `/paths/${pointerSegment(path)}/${method.toLowerCase()}`;
  // The validator of the schema of `<pointer>/content/<media type>`, if the spec documents one;
  // looked up once per pointer and media type (every response is checked against one).
  const contentSchemas = new Map<string, ValidateFunction | undefined>();
  const contentSchema = (pointer: string, contentType: string) => {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const key = `${pointer}/content/${pointerSegment(type)}/schema`;
    if (!contentSchemas.has(key)) {
      const schema = resolve(key);
      contentSchemas.set(key, schema.value === undefined ? undefined : schemaAt(schema.pointer));
    }
    return contentSchemas.get(key);
  };

  return {
    schemaAt,
    operation,
    resolve,
    requestBody: (path, method, contentType) =>
      contentSchema(`${operationPointer(path, method)}/requestBody`, contentType),
    responseBody: (path, method, status, contentType) =>
      contentSchema(`${operationPointer(path, method)}/responses/${status}`, contentType),
  };
}

/**
 * Ajv's errors as `field: rule` sentences, the field being the JSON path into the instance; an
 * error of the instance as a whole is named `whole` (a header's value is not a body).
 */
export function describeErrors(errors: ErrorObject[] | null | undefined, whole = '(body)'): string[] {
  const lines = (errors ?? []).map((e) => {
    const at = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = (name: string) => (at ? `${at}.${name}` : name);
    const of = (text: string) => (at || whole ? `${at || whole}: ${text}` : text);
    switch (e.keyword) {
      case 'additionalProperties':
        return `${field(String(e.params.additionalProperty))}: is not a field of this request`;
      case 'required':
        return `${field(String(e.params.missingProperty))}: is required`;
      case 'enum':
        return of(`must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
      case 'type':
        return of(`must be ${e.params.type === 'integer' ? 'an integer (a JSON number)' : `of type ${e.params.type}`}`);
      default:
        return of(e.message ?? e.keyword);
    }
  });
  return [...new Set(lines)];
}
