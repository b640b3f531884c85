import { BrokerError } from '../errors/broker-error.js';

/** The admin API's 404 for a tenant, connection, version, app or setup link, worded the same everywhere. */
export function notFound(
  kind: 'tenant' | 'connection' | 'connection version' | 'app' | 'setup link',
  id: string,
): never {
  throw new BrokerError('not_found', { description: `No ${kind} "${id}".` });
}
