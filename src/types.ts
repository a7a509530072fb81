// The types of the API, generated from the spec; import them with `import type ... from 'cloudrec/types'`.
export type { components, operations, paths } from '../generated/types.js';
export type {
  ApiError,
  CommonQuery,
  ErrorCode,
  StartRecordingRequest,
  StartRecordingResponse,
  StartRecordingResult,
} from './client/create-client.js';
