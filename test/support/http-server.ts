// A plain node:http server on a free loopback port, for tests where the client's real HTTP traffic
// is the point (headers on the wire, timeouts, refused or dropped answers).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestHttpServer {
  url: string;
  /** Every request received so far, body read. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Serves `handle` (called with each request once its body is read); `handle` may never answer. */
export async function startHttpServer(handle: (req: SeenRequest, res: ServerResponse) => void): Promise<TestHttpServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(seen);
      handle(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
