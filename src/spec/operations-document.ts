// The bundled operations API spec (health, readiness, metrics) from generated/, and validators compiled from it once.
import document from '../../generated/operations.json' with { type: 'json' };
import { createSpecValidator, type OpenApiDocument } from './schema-validator.js';

export const operationsDocument = document as unknown as OpenApiDocument;
export const operationsValidator = createSpecValidator(operationsDocument);
