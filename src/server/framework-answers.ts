// The answers given before any route runs, in the spec's shape like every other: what Fastify
// refuses while routing (a URL that is not validly percent-encoded, a path parameter that is too
// long), and what Node's HTTP parser refuses on the socket (a bad request line or method,
// conflicting lengths, headers too large, a request not sent in time).
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Fastify's routing refusals (the `frameworkErrors` option). */
export function frameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const body =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { code: 'invalid_parameter', message: 'A path parameter is longer than any the API allows.' }
      : { code: 'malformed_request', message: 'The request URL is not validly percent-encoded.' };
  void reply.code(400).header('x-request-id', req.id).send(body);
}

/** Node's parser refusals (the `clientErrorHandler` option): a whole HTTP response written on the socket. */
export function clientError(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, { code: 'request_timeout', message: 'The request was not received in full within the time limit.' }]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, { code: 'headers_too_large', message: 'The request headers are larger than 16384 bytes.' }]
        : [400, { code: 'malformed_request', message: 'The HTTP request is malformed and could not be read.' }];
  const text = JSON.stringify(body);
  if (!socket.writable) return socket.destroy();
  // Ended, not destroyed: what the client is still sending is read and dropped, so the answer
  // reaches it instead of a reset; the socket goes once the client closes, or after a second.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `X-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${text}`,
  );
  socket.resume();
  setTimeout(() => socket.destroy(), 1000).unref();
}
