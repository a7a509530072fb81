// The bundled public API spec from generated/, and validators compiled from it once.
import document from '../../generated/openapi.json' with { type: 'json' };
import { createSpecValidator, type OpenApiDocument } from './schema-validator.js';

export const apiDocument = document as unknown as OpenApiDocument;
export const apiValidator = createSpecValidator(apiDocument);
