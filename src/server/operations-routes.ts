// The operations API (openapi/operations/): GET /healthz, /readyz and /metrics, answered by every
// node whatever its role, a worker's only routes.
import type { FastifyInstance } from 'fastify';
import { operationsValidator } from '../spec/operations-document.js';
import { checkedAnswer } from './start-endpoint.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import type { ReadinessCheck } from './readiness.js';

export interface OperationsDeps {
  role: Config['role'];
  metrics: Metrics;
  readiness(): Promise<ReadinessCheck[]>;
}

/** How long a prober waits before asking a node that is not ready again. */
const notReadyRetrySec = 5;

export function registerOperationsRoutes(app: FastifyInstance, deps: OperationsDeps) {
  /** `body` as the answer with `status`, once the operations spec's schema of that answer passes it. */
  const answerOf = (path: string, status: number, body: unknown) =>
    checkedAnswer(operationsValidator.responseBody(path, 'get', status, 'application/json'), path, status, body, app.log);

  app.get('/healthz', async (_req, reply) => {
    const answer = answerOf('/healthz', 200, { status: 'ok', role: deps.role, uptime_sec: Math.round(process.uptime() * 10) / 10 });
    return reply.code(answer.status).type('application/json').send(answer.text);
  });

  app.get('/readyz', async (_req, reply) => {
    const checks = await deps.readiness();
    const failed = checks.filter((check) => !check.ok).map((check) => check.name);
    const answer = failed.length
      ? answerOf('/readyz', 503, { code: 'service_unavailable', message: `Not ready: ${failed.join(', ')}.`, checks })
      : answerOf('/readyz', 200, { status: 'ready', checks });
    if (answer.status === 503) reply.header('retry-after', String(notReadyRetrySec));
    return reply.code(answer.status).type('application/json').send(answer.text);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.code(200).type(deps.metrics.registry.contentType).send(text);
  });
}
