import { BrokerError } from '../../../errors/broker-error.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import type { Connection } from '../../connections/connection.repo.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import { withOrganisation } from './with-organisation.js';

/**
 * Guarantees: an enabled connection of the tenant — the one the login selected, else the
 * tenant's default enabled one.
 */
export async function pickConnection(
  deps: { connections: Pick<ConfigCache['connections'], 'findDefaultEnabled'> },
  tenant: Tenant,
  selected: Connection | undefined,
): Promise<Connection> {
  const connection = selected ?? (await deps.connections.findDefaultEnabled(tenant.id));
  if (!connection) throw withOrganisation(new BrokerError('no_connection'), tenant);
  if (!connection.enabled) {
    throw withOrganisation(
      new BrokerError('no_connection', { description: 'This sign-in connection is disabled.' }),
      tenant,
    );
  }
  return connection;
}
