// POST /v1/cloudRecord served on Node's own request and response, in front of Fastify: the one hot
// path of the service. Fastify's routing, hooks and reply cost about as much per request as all of
// the endpoint's own work, so a start is answered straight from the socket's request and every
// other request goes on to Fastify. Both take their answer from the same `answer`; the Fastify
// route stays for `inject()` and for URLs only Fastify's router maps to this path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ValidateFunction } from 'ajv';
import type { SchemaStartRecordingResponse as StartRecordingResponse } from '../../generated/types.js';
import { apiValidator } from '../spec/api-document.js';
import { ApiFailure } from './errors.js';
import { startRecording, type StartRecordingDeps } from './start-recording.js';

/** An answer: its status, headers beyond the usual ones, the JSON text of its body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The task answered, for the request's log line. */
  taskId?: number;
}

interface Log {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const path = '/v1/cloudRecord';

const internalError = new ApiFailure('internal_error', 'The service failed; retry the request.');

/** A failure as an answer. */
const failureAnswer = (failure: ApiFailure): Answer => ({ status: failure.status, headers: failure.headers, text: JSON.stringify(failure.body) });

/** `body` as the answer with `status` once `validate` (the spec's schema of that answer) passes it; else a logged internal_error. */
export function checkedAnswer(validate: ValidateFunction | undefined, at: string, status: number, body: unknown, log: Log): Answer {
  if (!validate || !validate(body)) {
    // A bug of ours: say so in the log, and answer with a documented failure instead.
    log.error({ path: at, status, errors: validate?.errors }, 'response does not match the spec');
    return failureAnswer(internalError);
  }
  return { status, headers: {}, text: JSON.stringify(body) };
}

export interface StartEndpointOptions {
  deps: StartRecordingDeps;
  bodyLimit: number;
  /** The request's id from its X-Request-Id header (when usable) or a new one. */
  requestId(given: string | string[] | undefined): string;
  log: Log;
  /** Whether each request gets its log line. */
  logsRequests: boolean;
  /** The client's address for the per-address limits (the proxy's client when the proxy is trusted). */
  clientAddress(req: IncomingMessage): string;
  /** Told of each answer: its status and the seconds from the request to it (for the metrics). */
  onAnswered?(status: number, seconds: number): void;
}

export function createStartEndpoint({ deps, bodyLimit, requestId, log, logsRequests, clientAddress, onAnswered }: StartEndpointOptions) {
  const validators = new Map<number, ValidateFunction | undefined>();
  const checked = (status: number, body: object) => {
    if (!validators.has(status)) validators.set(status, apiValidator.responseBody(path, 'post', status, 'application/json'));
    return checkedAnswer(validators.get(status), path, status, body, log);
  };
  const succeeded = (response: StartRecordingResponse): Answer => {
    const answer = checked(200, response);
    answer.taskId = response.task_id;
    return answer;
  };
  const failed = (error: unknown): Answer => {
    if (!(error instanceof ApiFailure)) throw error;
    const answer = checked(error.status, error.body);
    answer.headers = error.headers;
    return answer;
  };
  const tooLarge = failureAnswer(new ApiFailure('body_too_large', `The request body is larger than ${bodyLimit} bytes.`));
  const unreadable: Answer = { status: 400, headers: {}, text: JSON.stringify({ code: 'malformed_body', message: 'The request body could not be read.' }) };
  const bug = failureAnswer(internalError);

  /** The answer to a start, the spec's failures included (a promise when it waits for a write); throws or rejects only on a bug. */
  function answer(contentType: string | undefined, body: string, address: string): Answer | Promise<Answer> {
    try {
      const response = startRecording(deps, contentType, body, address);
      return response instanceof Promise ? response.then(succeeded, failed) : succeeded(response);
    } catch (error) {
      return failed(error);
    }
  }

  const logError = (error: unknown, id: string) => log.error({ request_id: id, err: error }, 'unhandled error');

  /** Serves one start request on Node's request and response. */
  function serve(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const id = requestId(req.headers['x-request-id']);
    let answered = false;
    const reply = (answer: Answer) => {
      if (answered) return;
      answered = true;
      const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(answer.text)), 'x-request-id', id];
      for (const name in answer.headers) headers.push(name, answer.headers[name]!);
      res.writeHead(answer.status, headers);
      res.end(answer.text);
      onAnswered?.(answer.status, (performance.now() - started) / 1000);
      if (logsRequests) {
        log.info({ request_id: id, method: 'POST', path, status: answer.status, ms: Math.round(performance.now() - started), task_id: answer.taskId }, 'request');
      }
    };
    const crashed = (error: unknown) => {
      logError(error, id);
      reply(bug);
    };

    if (Number(req.headers['content-length']) > bodyLimit) return reply(tooLarge);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= bodyLimit) return void chunks.push(chunk);
      // Answered now; Node reads and drops the rest of the body.
      req.off('data', onData);
      reply(tooLarge);
    };
    req.on('data', onData);
    req.on('error', () => reply(unreadable));
    req.on('end', () => {
      if (answered) return;
      // Decoded once at the end, so a character split between chunks stays whole.
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      let result;
      try {
        result = answer(req.headers['content-type'], body, clientAddress(req));
      } catch (error) {
        return crashed(error);
      }
      if (result instanceof Promise) result.then(reply, crashed);
      else reply(result);
    });
  }

  return {
    answer,
    serve,
    /** Whether a request is a start (the path exactly, with or without a query string). */
    handles: (req: IncomingMessage) => req.method === 'POST' && (req.url === path || req.url!.startsWith(`${path}?`)),
    /** The answers to a failure before the body is read, for the Fastify route's error handler. */
    tooLarge,
    unreadable,
    bug,
    logError,
  };
}

