import { BrokerError } from '../../../errors/broker-error.js';
import type { App } from '../../apps/app.repo.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import type { Connection } from '../../connections/connection.repo.js';
import { emailDomain } from '../host-names.js';
import { appServesTenant } from './assert-app-allowed.js';

export interface MatchInitiationDeps {
  apps: Pick<ConfigCache['apps'], 'listByReturnUrl'>;
  tenants: Pick<ConfigCache['tenants'], 'findByDomain'>;
  connections: Pick<ConfigCache['connections'], 'listEnabledByIssuer'>;
}

/**
 * Third-party-initiated login (OpenID Connect Core §4): the IdP names itself (`iss`) and where
 * the learner wants to go (`target_link_uri`); the broker trusts neither.
 * Guarantees: exactly one enabled connection with that issuer and one app that registered
 * `target_link_uri` and is allowed for that connection's tenant; when several tenants share
 * the issuer (Google, a multi-tenant Entra app), the login hint's domain decides. Anything
 * ambiguous is refused, never guessed.
 */
export async function matchInitiation(
  deps: MatchInitiationDeps,
  request: { issuer: string; targetLinkUri: string; loginHint: string | undefined },
): Promise<{ app: App; connection: Connection }> {
  const connections = await deps.connections.listEnabledByIssuer(request.issuer);
  if (connections.length === 0) {
    throw new BrokerError('unknown_tenant', { description: 'No sign-in connection matches this identity provider.' });
  }
  const apps = await deps.apps.listByReturnUrl(request.targetLinkUri);
  if (apps.length === 0) throw new BrokerError('invalid_return_to');
  let pairs = connections.flatMap((connection) =>
    apps.filter((app) => appServesTenant(app, connection.tenantId)).map((app) => ({ connection, app })),
  );
  if (pairs.length === 0) throw new BrokerError('tenant_not_allowed');
  const hintDomain = emailDomain(request.loginHint);
  if (pairs.length > 1 && hintDomain) {
    const byDomain = await deps.tenants.findByDomain(hintDomain);
    pairs = pairs.filter((pair) => pair.connection.tenantId === byDomain?.id);
  }
  const [pair, ...others] = pairs;
  const ambiguous = others.some(
    (other) => other.connection.tenantId !== pair?.connection.tenantId || other.app.id !== pair.app.id,
  );
  if (!pair || ambiguous) {
    throw new BrokerError('invalid_request', {
      description:
        'This sign-in link matches several organisations or applications; start from the application instead.',
    });
  }
  return pair;
}
