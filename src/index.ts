// The package's entry point: the typed client and the API's types.
/**
 * The typed client of the cloud-recording API (`createClient`) and its results.
 * @module cloudrec
 */
export { createClient, defaultRetry, isApiError } from './client/create-client.js';
export type { CallOptions, CallRecord, ClientOptions, CloudRecordClient } from './client/create-client.js';
export type * from './types.js';
