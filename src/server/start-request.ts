// Turns the raw body of a start request into a validated request, or the spec's failure for it.
import type { SchemaStartRecordingRequest as StartRecordingRequest } from '../../generated/types.js';
import { apiValidator, startRequestPointer } from '../spec/api-document.js';
import { describeErrors } from '../spec/schema-validator.js';
import { ApiFailure } from './errors.js';

const validateRequest = apiValidator.schemaAt(startRequestPointer);
/** The numbers of a mixResolution the spec allows (its `x-limits`, beyond what the pattern checks). */
export interface MixLimits {
  minSide: number;
  maxSide: number;
  maxPixels: number;
  minKbps: number;
  maxKbps: number;
  frameRates: number[];
}
const mixLimits = apiValidator.resolve('/components/schemas/MixResolution/x-limits').value as MixLimits;

/** The media type of a Content-Type header, lowercased, without parameters. */
export const mediaType = (contentType: string | undefined) =>
  contentType === 'application/json' ? contentType : (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** The numeric rules of `mixResolution` its pattern cannot express (x-limits in the spec). */
export function mixResolutionProblem(value: string): string | undefined {
  const [width, height, fps, kbps] = value.split(',').map(Number) as [number, number, number, number];
  const { minSide, maxSide, maxPixels, minKbps, maxKbps, frameRates } = mixLimits;
  if ([width, height].some((side) => side % 2 !== 0 || side < minSide || side > maxSide)) {
    return `width and height must be even numbers from ${minSide} to ${maxSide} (got ${width}×${height})`;
  }
  if (width * height > maxPixels) return `width × height must be at most ${maxPixels} pixels (got ${width * height})`;
  if (!frameRates.includes(fps)) return `the frame rate must be one of ${frameRates.join(', ')} (got ${fps})`;
  if (kbps < minKbps || kbps > maxKbps) return `the bitrate must be from ${minKbps} to ${maxKbps} kbps (got ${kbps})`;
  return undefined;
}

/** The validated request in `raw`, sent with `contentType`; throws the spec's ApiFailure otherwise. */
export function parseStartRequest(contentType: string | undefined, raw: string): StartRecordingRequest {
  const type = mediaType(contentType);
  if (type !== 'application/json') {
    throw new ApiFailure('unsupported_media_type', `The request body must be sent as application/json, not ${type || 'no content type'}.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new ApiFailure('malformed_body', `The request body is not valid JSON: ${(e as Error).message}.`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiFailure('malformed_body', 'The request body must be a JSON object.');
  }
  if (!validateRequest(body)) {
    const errors = validateRequest.errors ?? [];
    // The one rule of the top-level `not`: isAudioOnly and isVideoOnly both 1.
    const isNotRule = (e: { keyword: string; instancePath: string }) => e.keyword === 'not' && e.instancePath === '';
    if (errors.every(isNotRule)) {
      throw new ApiFailure('audio_only_and_video_only', 'isAudioOnly and isVideoOnly must not both be 1.');
    }
    const problems = describeErrors(errors.filter((e) => !isNotRule(e)));
    throw new ApiFailure('invalid_parameter', `${problems.join('; ')}.`);
  }
  const request = body as StartRecordingRequest;
  const mixProblem = request.mixResolution === undefined ? undefined : mixResolutionProblem(request.mixResolution);
  if (mixProblem) throw new ApiFailure('invalid_parameter', `mixResolution: ${mixProblem}.`);
  return request;
}
