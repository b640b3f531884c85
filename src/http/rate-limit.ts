import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BrokerError } from '../errors/broker-error.js';

/**
 * RATE_LIMIT_PER_MINUTE for one endpoint group (the plugin context it is registered in), keyed
 * per client IP unless told otherwise. 429 with Retry-After; 0 turns it off. Registered once
 * per key: each registration keeps its own counters.
 */
export async function limitRequests(
  app: FastifyInstance,
  perMinute: number,
  keyGenerator: (request: FastifyRequest) => string = (request) => request.ip,
) {
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator,
    errorResponseBuilder: (_request, context) =>
      new BrokerError('rate_limited', { description: `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s.` }),
  });
}
