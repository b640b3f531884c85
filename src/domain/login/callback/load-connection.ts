import { BrokerError } from '../../../errors/broker-error.js';
import type { ConnectionVersionService } from '../../connections/connection-version.service.js';
import type { Connection } from '../../connections/connection.repo.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import { settingsFingerprint, type LoginTransaction } from '../login-transaction.js';

/**
 * Guarantees: the connection the login was sent to still exists and is enabled, with its
 * tenant, as the configuration says now (a connection disabled mid-login finishes nothing);
 * a test login of one version uses that version's settings; and those settings name the same
 * IdP and client as when the login started. A version activated meanwhile (a setup-link
 * holder's own IdP, say) never receives a code the previous version's IdP issued: refused
 * before any request to an IdP, as a code on another connection's redirect URI is.
 */
export async function loadConnection(
  deps: {
    connections: Pick<ConfigCache['connections'], 'findById'>;
    tenants: Pick<ConfigCache['tenants'], 'findById'>;
    versions?: Pick<ConnectionVersionService, 'asConnection'>;
  },
  tx: LoginTransaction,
): Promise<{ connection: Connection; tenant: Tenant }> {
  // A test login of one version (a draft, say) finishes with that version's settings.
  const version = tx.purpose.kind === 'test' ? tx.purpose.version : undefined;
  const connection =
    version === undefined
      ? await deps.connections.findById(tx.connectionId)
      : await deps.versions?.asConnection(tx.connectionId, version);
  const tenant = connection && (await deps.tenants.findById(connection.tenantId));
  if (!connection || !tenant || !connection.enabled) {
    throw new BrokerError('idp_error', {
      description: 'The sign-in connection was removed or disabled during the sign-in.',
    });
  }
  if (settingsFingerprint(connection) !== tx.settings) {
    throw new BrokerError('login_expired', {
      description: "The organisation's sign-in settings changed while you were signing in. Please sign in again.",
      logMessage: `connection ${tx.connectionId}: the IdP settings changed since the login started`,
    });
  }
  return { connection, tenant };
}
