// The bundled public API spec from generated/, and validators compiled from it once.
import document from '../../generated/openapi.json' with { type: 'json' };
import { createSpecValidator, type OpenApiDocument } from './schema-validator.js';

export const apiDocument = document as unknown as OpenApiDocument;
export const apiValidator = createSpecValidator(apiDocument);

/** Where the start request's body schema is in the bundled spec. */
export const startRequestPointer = '/paths/~1v1~1cloudRecord/post/requestBody/content/application~1json/schema';
/** The most bytes a start request's body may have (`x-maxBytes` of its request body). */
export const startRequestMaxBytes = apiValidator.resolve('/paths/~1v1~1cloudRecord/post/requestBody/x-maxBytes').value as number;
/** Start requests a second one app_id may send before it is answered 429 (`x-rateLimitPerSec` of that answer). */
export const startRateLimitPerSec = apiValidator.resolve('/paths/~1v1~1cloudRecord/post/responses/429/x-rateLimitPerSec').value as number;
