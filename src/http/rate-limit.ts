import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BrokerError } from '../errors/broker-error.js';
import { SnapshotStore } from './rate-limit-store.js';

export interface LimitOptions {
  /** What the requests are counted against; the client IP unless told otherwise. */
  keyGenerator?: (request: FastifyRequest) => string;
  /** Requests this limit does not see at all: neither counted nor refused. */
  exempt?: (request: FastifyRequest) => boolean;
}

/**
 * What a route can ask of a limit before the limit counts the request (its hook runs after the
 * context's own onRequest hooks), to skip costly work on a request that will be refused anyway.
 */
export interface RequestLimit {
  /**
   * Refuses the request (429 `rate_limited`, Retry-After) when its key has no budget left: the
   * requests counted in this window, plus those `hold` is running for the same key, already
   * reach the limit. Such a request is not counted again.
   */
  refuseWhenExhausted(request: FastifyRequest, reply: FastifyReply): void;
  /**
   * Runs `work` while counting the request as pending against its key, so that concurrent
   * requests see it in `refuseWhenExhausted` before the limit itself has counted it.
   */
  hold<T>(request: FastifyRequest, work: () => Promise<T>): Promise<T>;
}

const WINDOW_MS = 60_000;

/** A limit that never refuses (RATE_LIMIT_PER_MINUTE=0). */
const UNLIMITED: RequestLimit = { refuseWhenExhausted: () => {}, hold: (_request, work) => work() };

/**
 * RATE_LIMIT_PER_MINUTE for one endpoint group (the plugin context it is registered in), keyed
 * per client IP unless told otherwise. 429 with Retry-After; 0 turns it off. Registered once
 * per key: each registration keeps its own counters. It runs as a route-level onRequest hook,
 * so after the context's own onRequest hooks (which may decide `exempt`, and may ask the
 * returned RequestLimit first).
 */
export async function limitRequests(
  app: FastifyInstance,
  perMinute: number,
  options: LimitOptions | LimitOptions['keyGenerator'] = {},
): Promise<RequestLimit> {
  if (perMinute <= 0) return UNLIMITED;
  const { keyGenerator = (request: FastifyRequest) => request.ip, exempt } =
    typeof options === 'function' ? { keyGenerator: options } : options;
  // The plugin makes its store itself, from the class it is given; this one keeps a hand on it.
  const made: SnapshotStore[] = [];
  class Counts extends SnapshotStore {
    constructor(storeOptions?: ConstructorParameters<typeof SnapshotStore>[0]) {
      super(storeOptions);
      made.push(this);
    }
  }
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: WINDOW_MS,
    store: Counts,
    keyGenerator,
    ...(exempt && { allowList: (request: FastifyRequest) => exempt(request) }),
    errorResponseBuilder: (_request, context) => tooMany(Math.ceil(context.ttl / 1000)),
  });
  const [counts] = made;
  const pending = new Map<string, number>();
  return {
    refuseWhenExhausted(request, reply) {
      const key = keyGenerator(request);
      // LocalStore answers synchronously, within the call.
      let counted = { current: 0, ttl: 0 };
      counts?.read(key, (_error, result) => (counted = result ?? counted), WINDOW_MS, perMinute);
      if (counted.current + (pending.get(key) ?? 0) < perMinute) return;
      const seconds = Math.max(1, Math.ceil(counted.ttl / 1000));
      void reply.header('retry-after', String(seconds));
      throw tooMany(seconds);
    },
    async hold(request, work) {
      const key = keyGenerator(request);
      pending.set(key, (pending.get(key) ?? 0) + 1);
      try {
        return await work();
      } finally {
        const left = (pending.get(key) ?? 1) - 1;
        if (left > 0) pending.set(key, left);
        else pending.delete(key);
      }
    },
  };
}

function tooMany(seconds: number): BrokerError {
  return new BrokerError('rate_limited', { description: `Too many requests; try again in ${seconds} s.` });
}
