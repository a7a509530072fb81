// The CLI's exit codes, shown by `cloudrec help`.

export const exitCodes = {
  ok: 0,
  /** The API answered with one of its errors (the spec's `code` is printed). */
  apiError: 1,
  /** Bad command line, or a request the spec rejects (checked before sending). */
  usage: 2,
  /** No answer: the server is not running or not reachable. */
  unreachable: 3,
  /** `status --follow`: the task ended failed. */
  taskFailed: 4,
} as const;

export const exitCodeHelp = `Exit codes:
  0  done
  1  the API answered with an error (its code is printed); conformance: the server does not conform
  2  bad command line, or a request the spec rejects (checked before sending)
  3  could not reach the server
  4  status --follow: the task failed`;

/** A failure that ends the command with an exit code and a message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
