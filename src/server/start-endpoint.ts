// POST /v1/cloudRecord served on Node's own request and response, in front of Fastify: the one hot
// path of the service. Fastify's routing, hooks and reply cost about as much per request as all of
// the endpoint's own work, so a start is answered straight from the socket's request and every
// other request goes on to Fastify. Both take their answer from the same `answer` function; the
// Fastify route stays for `inject()` and for URLs only Fastify's router maps to this path.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer to a start: its status, headers beyond the usual ones, the JSON text of its body. */
export interface StartAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The task answered, for the request's log line. */
  taskId?: number;
}

export interface StartEndpoint {
  /** The answer to a start request, the spec's failures included (a promise when it waits for a write); throws or rejects only on a bug. */
  answer(contentType: string | undefined, body: string, address: string): StartAnswer | Promise<StartAnswer>;
  /** Said when the body is over `bodyLimit` bytes. */
  tooLarge: StartAnswer;
  /** Said when the body could not be read to its end. */
  unreadable: StartAnswer;
  /** Said on a bug, after `logError` has it. */
  internalError: StartAnswer;
  bodyLimit: number;
  /** The request's id from its X-Request-Id header (when usable) or a new one. */
  requestId(given: string | string[] | undefined): string;
  /** Logs the request's one line, when the level keeps it. */
  logRequest(line: { request_id: string; method: string; path: string; status: number; ms: number; task_id?: number }): void;
  logError(error: unknown, requestId: string): void;
}

const path = '/v1/cloudRecord';

/** Whether the request is a start (the path exactly, with or without a query string). */
export const isStart = (req: IncomingMessage) =>
  req.method === 'POST' && (req.url === path || req.url!.startsWith(`${path}?`));

/** Serves one start request on Node's request and response. */
export function serveStart(endpoint: StartEndpoint, req: IncomingMessage, res: ServerResponse) {
  const started = performance.now();
  const id = endpoint.requestId(req.headers['x-request-id']);
  let answered = false;
  const reply = (answer: StartAnswer) => {
    if (answered) return;
    answered = true;
    const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(answer.text)), 'x-request-id', id];
    for (const name in answer.headers) headers.push(name, answer.headers[name]!);
    res.writeHead(answer.status, headers);
    res.end(answer.text);
    endpoint.logRequest({ request_id: id, method: 'POST', path, status: answer.status, ms: Math.round(performance.now() - started), task_id: answer.taskId });
  };

  if (Number(req.headers['content-length']) > endpoint.bodyLimit) return reply(endpoint.tooLarge);
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= endpoint.bodyLimit) return void chunks.push(chunk);
    // Answered now; Node reads and drops the rest of the body.
    req.off('data', onData);
    reply(endpoint.tooLarge);
  };
  req.on('data', onData);
  req.on('error', () => reply(endpoint.unreadable));
  req.on('end', () => {
    if (answered) return;
    // Decoded once at the end, so a character split between chunks stays whole.
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
    const failed = (error: unknown) => {
      endpoint.logError(error, id);
      reply(endpoint.internalError);
    };
    let answer;
    try {
      answer = endpoint.answer(req.headers['content-type'], body, req.socket.remoteAddress ?? '');
    } catch (error) {
      return failed(error);
    }
    if (answer instanceof Promise) answer.then(reply, failed);
    else reply(answer);
  });
}
