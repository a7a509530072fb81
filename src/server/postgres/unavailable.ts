// Whether a failure of a PostgreSQL query means the database cannot be reached now: answered 503
// with Retry-After, not 500. Apart from the driver, so the embedded server's start path does not load it.
// Connection-level failures: the server is unreachable, shutting down, starting up, or the link broke.
const unavailableCodes = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '08P01']);
const unreachableErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** Whether `error` means the database cannot be reached now (so the answer is 503 and a retry may work). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && (unavailableCodes.has(code) || unreachableErrors.has(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Query read timeout/i.test(message ?? '');
}

