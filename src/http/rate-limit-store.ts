import { createRequire } from 'node:module';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';

/** The parts of the plugin's options (or a route's) the store reads. */
type StoreOptions = { continueExceeding?: boolean; exponentialBackoff?: boolean };

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;
interface Store {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
}

// @fastify/rate-limit's own in-memory store (CommonJS, not in its public exports' types).
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding?: boolean,
  exponentialBackoff?: boolean,
  cache?: number,
) => Store;

/**
 * @fastify/rate-limit's LocalStore, answering with a copy of the count. The store hands back
 * its own mutable record, which the plugin reads a microtask later: requests whose hooks
 * resume together (ten redemptions waiting on one cached app lookup) all read the count of
 * the last of them, and all are refused though the first were within the limit.
 */
export class SnapshotStore implements FastifyRateLimitStore {
  readonly #inner: Store;

  constructor(options: StoreOptions = {}) {
    this.#inner = new LocalStore(options.continueExceeding, options.exponentialBackoff);
  }

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.#inner.incr(
      key,
      (error, result) => callback(error, result && { current: result.current, ttl: result.ttl }),
      timeWindow,
      max,
    );
  }

  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.#inner.read(
      key,
      (error, result) => callback(error, result && { current: result.current, ttl: result.ttl }),
      timeWindow,
      max,
    );
  }

  child(routeOptions: object): SnapshotStore {
    return new SnapshotStore(routeOptions as StoreOptions);
  }
}
