// The bundled sandbox control API spec from generated/, and validators compiled from it once.
import document from '../../generated/sandbox.json' with { type: 'json' };
import { createSpecValidator, type OpenApiDocument } from './schema-validator.js';

export const sandboxDocument = document as unknown as OpenApiDocument;
export const sandboxValidator = createSpecValidator(sandboxDocument);
