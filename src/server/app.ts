// The reference server as a Fastify app, apart from the process that runs it (main.ts):
// the public API, the sandbox control API, the specs and the docs.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyReply } from 'fastify';
import { apiValidator, startRequestMaxBytes } from '../spec/api-document.js';
import { sandboxDocument, sandboxValidator } from '../spec/sandbox-document.js';
import type { SpecValidator } from '../spec/schema-validator.js';
import { mediaFolder, type Config } from './config.js';
import { sqliteSchemaVersion, storedSchemaVersion, type Db } from './database.js';
import { clientAddress, isTrustedProxy, parseTrustedProxies } from './client-address.js';
import { limitConnectionsPerAddress } from './connection-limit.js';
import { clientError, frameworkError } from './framework-answers.js';
import type { StorageSettings } from './project-store.js';
import { createRateLimiter, type Limiter } from './rate-limiter.js';
import type { SecretBox } from './secret-box.js';
import { sandboxHandlers } from './sandbox-routes.js';
import { readSpecRequest, SandboxFailure } from './spec-request.js';
import { isDatabaseUnavailable } from './postgres/unavailable.js';
import { isOutOfSpace } from './storage-errors.js';
import { checkedAnswer, createStartEndpoint } from './start-endpoint.js';
import { sameSettings } from './start-recording.js';
import { createTaskBatcher } from './task-batcher.js';
import { createMetrics, type Metrics } from './metrics.js';
import { registerOperationsRoutes } from './operations-routes.js';
import { checkReadiness, type ReadinessCheck } from './readiness.js';
import { registerStaticRoutes } from './static-routes.js';
import { markStopped, sqliteStores, type Stores } from './stores.js';
import type { Task } from './task-store.js';

export interface AppOptions {
  config: Config;
  /** What the server keeps: by default the embedded database `db`'s. */
  stores?: Stores;
  db?: Db;
  /** Why storage settings cannot be used (nothing when they can). */
  storageProblems?: (storage: StorageSettings) => string[];
  /** Called once a new task is on disk. */
  onTaskCreated?: (task: Task) => void;
  /** Ends a task's recording now; by default marks it ended and leaves it there. */
  stopTask?: (taskId: number) => Task | Promise<Task>;
  /** Where the JSON log lines go (standard output by default). */
  logStream?: { write(line: string): void };
  now?: () => number;
  /** Why new tasks are refused now (the server is shutting down), or nothing. */
  refusal?: () => string | undefined;
  /** Seals storage secrets in the database (by default under a key of this process alone). */
  secretBox?: SecretBox;
  /** What the node counts for GET /metrics (by default a registry of its own). */
  metrics?: Metrics;
  /** GET /readyz's checks; by default the embedded database `db`'s and the shutdown. */
  readiness?: () => Promise<ReadinessCheck[]>;
}

const requestIdPattern = new RegExp(
  (apiValidator.resolve('/components/headers/RequestId/schema').value as { pattern: string }).pattern,
);

const longestPathParameter = Math.max(
  ...Object.values((sandboxDocument.components as { parameters: Record<string, { in: string; schema: { maxLength?: number; $ref?: string } }> }).parameters)
    .filter((p) => p.in === 'path')
    .map((p) => p.schema.maxLength ?? 128),
);

// The spec's limit on a request body (x-maxBytes of the start request's body).
const bodyLimit = startRequestMaxBytes;

/** X-Request-Id: the caller's own when it is a safe token (it lands in the log), else a new one. */
const requestId = (given: string | string[] | undefined) =>
  typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();

const tooManyWrongTokens = (wait: number) =>
  new SandboxFailure(429, 'rate_limited', `Too many requests with a wrong admin token from this address; retry after ${wait} second${wait > 1 ? 's' : ''}.`, { 'Retry-After': String(wait) });

/** Builds the app; the caller listens (or injects) and closes it. */
export function buildApp(options: AppOptions) {
  const now = options.now ?? Date.now;
  const { config } = options;
  const stores = options.stores ?? sqliteStores(options.db!, options.secretBox, now);
  const { projects, channels, tasks } = stores;
  /** A limit of the whole fleet when the stores share one, else this process's own. */
  const limiter = (namespace: string, limit: number, windowMs: number): Limiter =>
    stores.limiter?.(namespace, limit, windowMs) ?? createRateLimiter(limit, now, windowMs);
  const refusal = options.refusal ?? (() => undefined);
  // A worker answers the operations API alone: the API, the sandbox and the docs are an API node's.
  const answers = config.role !== 'worker';
  const metrics = options.metrics ?? createMetrics();
  metrics.setSources({ activeTasks: () => tasks.countActive() });
  const readiness =
    options.readiness ??
    (() =>
      checkReadiness({
        engine: 'SQLite',
        schemaVersion: () => {
          if (!options.db) throw new Error('the app was given no database to check');
          return storedSchemaVersion(options.db);
        },
        neededVersion: sqliteSchemaVersion,
        shuttingDown: refusal,
      }));
  const batcher = createTaskBatcher(tasks, sameSettings, refusal);
  const rateLimiter = limiter('start', config.rateLimitPerSec, 1000);
  const failedAuth = {
    byAddress: limiter('failed-auth-address', config.failedAuthPerMin, 60_000),
    byApp: limiter('failed-auth-app', config.failedAuthPerMin, 60_000),
  };
  const trusted = config.trustProxy ? parseTrustedProxies(config.trustProxy) : undefined;
  const addressOf = (req: IncomingMessage) => clientAddress(trusted, req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);

  // One log line per request, never with a body, a query string or a header; nothing built when
  // the level leaves it out.
  const logsRequests = config.logLevel === 'info' || config.logLevel === 'debug';

  const app = Fastify({
    logger: { level: config.logLevel, ...(options.logStream && { stream: options.logStream }) },
    // Fastify's own two lines per request are replaced by the one line below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit,
    // Node's server, with the start endpoint in front of Fastify's router.
    serverFactory: (handler) => {
      const server = createServer(
        // Node checks the timeouts below this often (30 s by default, longer than the timeouts themselves).
        { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutSec * 500) },
        (req, res) => (answers && start.handles(req) ? start.serve(req, res) : handler(req, res)),
      );
      // Slow or idle clients are cut off, so they cannot hold connections (and file descriptors) open.
      server.requestTimeout = config.requestTimeoutSec * 1000;
      server.headersTimeout = Math.min(10_000, config.requestTimeoutSec * 1000);
      // A socket idle this long is closed; longer than the request timeout, so a slow request gets its 408 first.
      server.setTimeout((config.requestTimeoutSec + 5) * 1000);
      server.keepAliveTimeout = config.keepAliveTimeoutSec * 1000;
      server.maxConnections = config.maxConnections;
      limitConnectionsPerAddress(server, config.maxConnectionsPerAddress, (peer) => isTrustedProxy(trusted, peer));
      return server;
    },
    // Answers before any route runs, in the spec's shape too.
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    // Path parameters as long as the sandbox spec allows them, percent-encoded (up to 6 characters a UTF-16 unit).
    routerOptions: { maxParamLength: 6 * longestPathParameter },
    // While closing, requests still get the app's own answers (a start: 503 service_unavailable), not Fastify's.
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
  });

  // The start endpoint, answered in front of Fastify (the server above calls it once it is listening)
  // and by its route below.
  const start = createStartEndpoint({
    deps: {
      projects,
      tasks,
      batcher,
      channels: channels.source,
      rateLimiter,
      failedAuth,
      refusal,
      storageProblems: options.storageProblems ?? (() => []),
      onTaskCreated: options.onTaskCreated,
    },
    bodyLimit,
    requestId,
    log: app.log,
    logsRequests,
    clientAddress: addressOf,
    onAnswered: metrics.started,
  });

  // Sent on every answer, the error answers included, as the spec's RequestId header says. (Hooks
  // take a callback, not a promise: a promise and a microtask a request are a cost of their own.)
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });

  // Every body arrives as text; the handlers parse it, so a non-JSON body gets the spec's error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', (req, reply, done) => {
    metrics.answered(req.routeOptions.url, req.method, reply.statusCode);
    if (logsRequests) {
      req.log.info(
        {
          method: req.method,
          path: req.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          task_id: (reply.request as { taskId?: number }).taskId,
        },
        'request',
      );
    }
    done();
  });

  /** Sends `body` with `status` after checking it against the spec's response schema. */
  const send = (reply: FastifyReply, validator: SpecValidator, path: string, method: string, status: number, body?: unknown) => {
    if (body === undefined) return reply.code(status).send();
    const answer = checkedAnswer(validator.responseBody(path, method, status, 'application/json'), path, status, body, app.log);
    return reply.code(answer.status).type('application/json').send(answer.text);
  };

  registerOperationsRoutes(app, { role: config.role, metrics, readiness });

  // --- the public API
  if (answers) app.post('/v1/cloudRecord', async (req, reply) => {
    const answer = await start.answer(req.headers['content-type'], typeof req.body === 'string' ? req.body : '', addressOf(req.raw));
    (req as { taskId?: number }).taskId = answer.taskId;
    return reply.code(answer.status).headers(answer.headers).type('application/json').send(answer.text);
  });

  // --- the sandbox control API, routed from its spec, behind the admin token when there is one.
  // The scheme is case-insensitive (RFC 9110); wrong tokens are limited per address as wrong
  // sign_keys are, and past the limit the token is not even checked.
  const expected = createHash('sha256').update(config.adminToken).digest();
  const failedAdmin = limiter('failed-admin-token', config.failedAuthPerMin, 60_000);
  const checkAdmin = async (authorization: string | undefined, address: string) => {
    if (!config.adminToken) return;
    const blocked = failedAdmin.waitFor(address);
    if (blocked > 0) throw tooManyWrongTokens(blocked);
    const token = /^bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? '';
    if (timingSafeEqual(createHash('sha256').update(token).digest(), expected)) return;
    const wait = await failedAdmin.take(address);
    if (wait > 0) throw tooManyWrongTokens(wait);
    throw new SandboxFailure(401, 'unauthorized', 'The sandbox API needs the admin token: send Authorization: Bearer <token>.', { 'WWW-Authenticate': 'Bearer' });
  };
  if (answers && config.sandbox) {
    const stopTask = options.stopTask ?? ((taskId: number) => markStopped(tasks, taskId, now));
    const handlers = sandboxHandlers({ projects, channels, tasks, outbox: stores.outbox, stopTask, mediaDir: mediaFolder(config) });
    for (const [path, item] of Object.entries(sandboxDocument.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const operationId = (operation as { operationId?: string }).operationId;
        if (!operationId) continue;
        const handler = handlers[operationId];
        if (!handler) throw new Error(`No handler for sandbox operation ${operationId}`);
        app.route({
          method: method.toUpperCase() as 'GET',
          url: path.replace(/\{([^}]+)\}/g, ':$1'),
          handler: async (req, reply) => {
            try {
              await checkAdmin(req.headers.authorization, addressOf(req.raw));
              const request = readSpecRequest(sandboxValidator, path, method, {
                params: req.params as Record<string, string>,
                query: req.query as Record<string, string>,
                contentType: req.headers['content-type'],
                body: typeof req.body === 'string' ? req.body : undefined,
              });
              let answer;
              try {
                answer = await handler(request);
              } catch (error) {
                // A change that cannot be stored (a full disk, a database away) is the client's to retry, as a start's is.
                if (isDatabaseUnavailable(error)) {
                  throw new SandboxFailure(503, 'service_unavailable', 'The service cannot reach its database now. Retry after 2 seconds.', { 'Retry-After': '2' });
                }
                if (!isOutOfSpace(error)) throw error;
                throw new SandboxFailure(503, 'service_unavailable', 'The service cannot store changes now: its disk is full. Retry after 30 seconds.', { 'Retry-After': '30' });
              }
              return send(reply, sandboxValidator, path, method, answer.status, answer.body);
            } catch (error) {
              if (!(error instanceof SandboxFailure)) throw error;
              return reply.code(error.status).headers(error.headers).send(error.body);
            }
          },
        });
      }
    }
  }

  if (answers) registerStaticRoutes(app, config.docsDir);

  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ code: 'not_found', message: `There is no ${req.method} ${req.url.split('?')[0]}.` }),
  );

  // Failures before a handler runs (a body over the limit, say) and bugs: the spec's shape, no details.
  app.setErrorHandler(async (error: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const answer =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? start.tooLarge
      : error.statusCode && error.statusCode < 500 ? start.unreadable
      : (start.logError(error, req.id), start.bug);
    return reply.code(answer.status).type('application/json').send(answer.text);
  });

  return { app, projects, channels, tasks, outbox: stores.outbox, metrics };
}
