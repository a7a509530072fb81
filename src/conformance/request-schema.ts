// The start request's schema as the bundled spec states it, each property's `$ref` followed: what
// the request rules and the request generators are derived from.
import type { MixLimits } from '../server/start-request.js';
import { apiValidator, startRequestPointer } from '../spec/api-document.js';

export interface PropertySchema {
  type?: string;
  enum?: (string | number)[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
  not?: PropertySchema;
  'x-limits'?: MixLimits;
}

export const requestSchema = apiValidator.resolve(startRequestPointer).value as PropertySchema;
/** Each property's schema with its `$ref` followed (siblings of the `$ref` kept). */
export const requestProperties: Record<string, PropertySchema> = Object.fromEntries(
  Object.entries(requestSchema.properties ?? {}).map(([name, own]) => {
    const target = apiValidator.resolve(`${startRequestPointer}/properties/${name}`).value as PropertySchema;
    const { $ref: _ref, ...siblings } = own as PropertySchema & { $ref?: string };
    return [name, { ...target, ...siblings }];
  }),
);
export const requiredFields = requestSchema.required ?? [];
/** The fields the top-level `not` forbids together, with the value it forbids for each. */
export const exclusiveFields = Object.fromEntries(
  Object.entries(requestSchema.not?.properties ?? {}).map(([name, s]) => [name, s.const]),
) as Record<string, unknown>;
export const validateRequest = apiValidator.schemaAt(startRequestPointer);
