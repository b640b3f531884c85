import { BrokerError } from '../errors/broker-error.js';

/** The admin API's 404 for a tenant, connection, version, app, setup link or domain, worded the same everywhere. */
export function notFound(
  kind: 'tenant' | 'connection' | 'connection version' | 'app' | 'setup link' | 'domain',
  id: string,
): never {
  throw new BrokerError('not_found', { description: `No ${kind} "${id}".` });
}
