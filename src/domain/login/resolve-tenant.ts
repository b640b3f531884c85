import { hostnameOf, isWithinDomain } from './host-names.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { Connection, ConnectionRepo } from '../connections/connection.repo.js';
import type { Tenant, TenantRepo } from '../tenants/tenant.repo.js';

export interface Selectors {
  connection?: string | undefined;
  tenant?: string | undefined;
  /** The Host header, for `<slug>.<TENANT_DOMAIN>`. */
  host?: string | undefined;
  loginHint?: string | undefined;
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

/** The domain of an email-like login hint, lowercased. */
export function emailDomain(value: string | undefined): string | undefined {
  const at = value?.lastIndexOf('@') ?? -1;
  if (!value || at < 1 || at === value.length - 1) return undefined;
  return value.slice(at + 1).toLowerCase();
}

/**
 * Contract, selector precedence: `connection` > `tenant` > tenant subdomain > `login_hint`
 * domain. The first selector present decides; a later one never overrides it.
 */
export async function resolveTenant(
  deps: { tenants: Pick<TenantRepo, 'findById' | 'findBySlug' | 'findByDomain'>; connections: Pick<ConnectionRepo, 'findById'>; tenantDomain: string | undefined },
  selectors: Selectors,
): Promise<{ tenant: Tenant; connection: Connection | undefined }> {
  let tenant: Tenant | undefined;
  let connection: Connection | undefined;
  if (selectors.connection !== undefined) {
    connection = await deps.connections.findById(selectors.connection);
    if (!connection) throw new BrokerError('unknown_tenant', { description: 'No sign-in connection matches this link.' });
    tenant = await deps.tenants.findById(connection.tenantId);
  } else {
    const slug = selectors.tenant ?? tenantSlugFromHost(selectors.host, deps.tenantDomain);
    if (slug !== undefined) {
      tenant = await deps.tenants.findBySlug(slug);
    } else {
      const domain = emailDomain(selectors.loginHint);
      if (domain === undefined) {
        throw new BrokerError('invalid_request', { description: 'Say which organisation to sign in with (tenant, connection or login_hint).' });
      }
      tenant = await deps.tenants.findByDomain(domain);
    }
  }
  if (!tenant) throw new BrokerError('unknown_tenant');
  return { tenant, connection };
}

/** The connection a login uses: the one selected, else the tenant's default enabled one. */
export async function pickConnection(
  deps: { connections: Pick<ConnectionRepo, 'findDefaultEnabled'> },
  tenant: Tenant,
  selected: Connection | undefined,
): Promise<Connection> {
  const connection = selected ?? (await deps.connections.findDefaultEnabled(tenant.id));
  if (!connection) throw new BrokerError('no_connection');
  if (!connection.enabled) throw new BrokerError('no_connection', { description: 'This sign-in connection is disabled.' });
  return connection;
}
