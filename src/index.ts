// The package's entry point: the typed client and the API's types.
export { createClient, defaultRetry, isApiError } from './client/create-client.js';
export type { CallOptions, CallRecord, ClientOptions, CloudRecordClient } from './client/create-client.js';
export type * from './types.js';
