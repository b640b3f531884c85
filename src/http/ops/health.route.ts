import type { FastifyInstance } from 'fastify';
import { BrokerError } from '../../errors/broker-error.js';
import { jsonErrorHandler } from '../errors.js';

/** Liveness (the process answers) and readiness (the database answers). */
export async function healthRoutes(app: FastifyInstance, deps: { ping(): Promise<void> }) {
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
}
