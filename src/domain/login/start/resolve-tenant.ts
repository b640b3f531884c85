import { BrokerError } from '../../../errors/broker-error.js';
import type { ConfigCache } from '../../live-config/config-cache.js';
import type { Connection } from '../../connections/connection.repo.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import { emailDomain, hostnameOf, isWithinDomain } from '../host-names.js';

export interface Selectors {
  connection?: string | undefined;
  tenant?: string | undefined;
  /** The Host header, for `<slug>.<TENANT_DOMAIN>`. */
  host?: string | undefined;
  loginHint?: string | undefined;
}

export interface ResolveTenantDeps {
  tenants: Pick<ConfigCache['tenants'], 'findById' | 'findBySlug' | 'findByDomain'>;
  connections: Pick<ConfigCache['connections'], 'findById'>;
  tenantDomain: string | undefined;
}

/** `acme.sso.example.com` with TENANT_DOMAIN `sso.example.com` → `acme`; ports ignored. */
export function tenantSlugFromHost(host: string | undefined, tenantDomain: string | undefined): string | undefined {
  if (!host || !tenantDomain) return undefined;
  const hostname = hostnameOf(host);
  const parent = hostnameOf(tenantDomain);
  if (hostname === parent || !isWithinDomain(hostname, parent)) return undefined;
  const slug = hostname.slice(0, -parent.length - 1);
  return slug.includes('.') ? undefined : slug;
}

/**
 * The learner typed an email whose domain no organisation registered: said in their terms (the
 * domain is theirs, from login_hint), not as an unknown organisation they never named.
 */
function unknownEmailDomain(domain: string): BrokerError {
  const error = new BrokerError('unknown_tenant', {
    description: `No organisation uses single sign-on for email addresses ending in @${domain}.`,
  });
  error.learnerCase = 'email_domain';
  return error;
}

/**
 * Guarantees: exactly one tenant, chosen by the contract's selector precedence —
 * `connection` > `tenant` > tenant subdomain > `login_hint` domain. The first selector
 * present decides; a later one never overrides it. A selected connection is returned too.
 */
export async function resolveTenant(
  deps: ResolveTenantDeps,
  selectors: Selectors,
): Promise<{ tenant: Tenant; connection: Connection | undefined }> {
  let tenant: Tenant | undefined;
  let connection: Connection | undefined;
  if (selectors.connection !== undefined) {
    connection = await deps.connections.findById(selectors.connection);
    if (!connection)
      throw new BrokerError('unknown_tenant', { description: 'No sign-in connection matches this link.' });
    tenant = await deps.tenants.findById(connection.tenantId);
  } else {
    const slug = selectors.tenant ?? tenantSlugFromHost(selectors.host, deps.tenantDomain);
    if (slug !== undefined) {
      tenant = await deps.tenants.findBySlug(slug);
    } else {
      const domain = emailDomain(selectors.loginHint);
      if (domain === undefined) {
        throw new BrokerError('invalid_request', {
          description: 'Say which organisation to sign in with (tenant, connection or login_hint).',
        });
      }
      tenant = await deps.tenants.findByDomain(domain);
      if (!tenant) throw unknownEmailDomain(domain);
    }
  }
  if (!tenant) throw new BrokerError('unknown_tenant');
  return { tenant, connection };
}
