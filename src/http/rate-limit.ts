import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BrokerError } from '../errors/broker-error.js';
import { SnapshotStore } from './rate-limit-store.js';

export interface LimitOptions {
  /** What the requests are counted against; the client IP unless told otherwise. */
  keyGenerator?: (request: FastifyRequest) => string;
  /** Requests this limit does not see at all: neither counted nor refused. */
  exempt?: (request: FastifyRequest) => boolean;
}

/**
 * RATE_LIMIT_PER_MINUTE for one endpoint group (the plugin context it is registered in), keyed
 * per client IP unless told otherwise. 429 with Retry-After; 0 turns it off. Registered once
 * per key: each registration keeps its own counters. It runs as a route-level onRequest hook,
 * so after the context's own onRequest hooks (which may decide `exempt`).
 */
export async function limitRequests(
  app: FastifyInstance,
  perMinute: number,
  options: LimitOptions | LimitOptions['keyGenerator'] = {},
) {
  if (perMinute <= 0) return;
  const { keyGenerator = (request: FastifyRequest) => request.ip, exempt } =
    typeof options === 'function' ? { keyGenerator: options } : options;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    store: SnapshotStore,
    keyGenerator,
    ...(exempt && { allowList: (request: FastifyRequest) => exempt(request) }),
    errorResponseBuilder: (_request, context) =>
      new BrokerError('rate_limited', {
        description: `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s.`,
      }),
  });
}
