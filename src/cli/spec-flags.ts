// The `start` command's flags, read from the request schema of the spec: one flag per field,
// named exactly as the field, with its type, values, default and description.
import { apiValidator, startRequestPointer } from '../spec/api-document.js';
import { describeErrors } from '../spec/schema-validator.js';


interface FieldSchema {
  type?: string;
  enum?: (string | number)[];
  default?: unknown;
  description?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  'x-enumDescriptions'?: Record<string, string>;
}

/** One request field as a flag. */
export interface RequestFlag {
  name: string;
  required: boolean;
  schema: FieldSchema;
}

const request = apiValidator.resolve(startRequestPointer).value as { properties: Record<string, unknown>; required?: string[] };

/** Every field of the start request, in the spec's order. */
export const requestFlags: RequestFlag[] = Object.entries(request.properties).map(([name, own]) => {
  // A field that refers to a shared schema may add its own keywords (default, description) beside the $ref.
  const { $ref: _ref, ...siblings } = own as FieldSchema & { $ref?: string };
  const target = apiValidator.resolve(`${startRequestPointer}/properties/${name}`).value as FieldSchema;
  return { name, required: (request.required ?? []).includes(name), schema: { ...target, ...siblings } };
});

/** The operation's summary and description, for help. */
export const startOperation = apiValidator.operation('/v1/cloudRecord', 'post') as { summary?: string; description?: string };

/** A flag's value as the field's type: integers become numbers when they look like one (else the spec's rule reports it). */
export function fieldValue(flag: RequestFlag, raw: string): unknown {
  if ((flag.schema.type === 'integer' || flag.schema.type === 'number') && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw);
  return raw;
}

/** The request body's problems as `field: rule` lines in the spec's words; empty when it conforms. */
export function requestProblems(body: Record<string, unknown>): string[] {
  const validate = apiValidator.schemaAt(startRequestPointer);
  if (validate(body)) return [];
  return describeErrors(validate.errors).map((line) => {
    // The `not` rule has no words of its own in Ajv: the spec's description says it.
    if (line.startsWith('(body): must NOT be valid')) {
      const not = apiValidator.resolve(`${startRequestPointer}/not`).value as { description?: string };
      return `isAudioOnly, isVideoOnly: ${not.description ?? 'must not both be 1'}`;
    }
    return line;
  });
}

/** Help lines for one flag: its type and rule, default, values and the field's description. */
export function flagHelp(flag: RequestFlag): string {
  const { schema } = flag;
  const kind = schema.enum ? schema.enum.join('|') : (schema.type ?? 'value');
  const head = `  --${flag.name} <${kind}>${flag.required ? '  (required)' : ''}${schema.default !== undefined ? `  (default ${JSON.stringify(schema.default)})` : ''}`;
  const values = Object.entries(schema['x-enumDescriptions'] ?? {}).map(([value, text]) => `      ${value}: ${text}`);
  const description = (schema.description ?? '').trim().split('\n')[0] ?? '';
  return [head, `      ${description}`, ...values].join('\n');
}
