// The package's entry point: the typed client and the API's types.
export { createClient, isApiError } from './client/create-client.js';
export type { ClientOptions, CloudRecordClient } from './client/create-client.js';
export type * from './types.js';
