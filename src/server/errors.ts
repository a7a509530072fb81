// The public API's error catalogue: every failure is one of the spec's codes, answered with the
// HTTP status the spec documents for it.
import type { SchemaErrorCode as ErrorCode } from '../../generated/types.js';
import { apiValidator } from '../spec/api-document.js';
import { statusByCode } from '../spec/failures.js';

const statuses = statusByCode(apiValidator, '/v1/cloudRecord', 'post');

/** A failure answered to the client as `{ code, message }` with the code's documented status. */
export class ApiFailure extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    // An expected answer, not a bug: no stack trace (taking one was a tenth of a 401's cost).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    const status = statuses.get(code);
    if (status === undefined) throw new Error(`The spec documents no response for error code ${code}`);
    this.status = status;
  }

  get body() {
    return { code: this.code, message: this.message };
  }
}
