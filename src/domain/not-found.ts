import { BrokerError } from '../errors/broker-error.js';

/** The admin API's 404 for a tenant, connection or app, worded the same everywhere. */
export function notFound(kind: 'tenant' | 'connection' | 'app', id: string): never {
  throw new BrokerError('not_found', { description: `No ${kind} "${id}".` });
}
