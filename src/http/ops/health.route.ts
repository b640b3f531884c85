import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { BrokerError } from '../../errors/broker-error.js';
import { jsonErrorHandler } from '../errors.js';

/** Liveness (the process answers), readiness (the database answers) and Prometheus metrics. */
export async function healthRoutes(app: FastifyInstance, deps: { ping(): Promise<void>; metrics: Registry }) {
  app.setErrorHandler(jsonErrorHandler);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    try {
      await deps.ping();
    } catch (error) {
      throw new BrokerError('not_ready', { description: 'The database is not reachable.', cause: error });
    }
    return { status: 'ok' };
  });
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
}
