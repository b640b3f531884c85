import { BrokerError } from '../../errors/broker-error.js';
import type { MappedIdentity } from '../../oidc/identity.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import { emailDomain } from './host-names.js';

/**
 * Contract, `restrictToDomains`: a login passes only with an `email` that is verified
 * (`email_verified: true`, or the connection's `assumeEmailVerified` when the IdP says
 * nothing) and whose domain is one of the tenant's verified domains (contract v4: a domain
 * merely claimed proves nothing). An unverified email, no email,
 * or a `preferred_username` alone is refused: any IdP lets its users type those, so they
 * prove nothing about the organisation. Where the IdP asserts the organisation itself
 * (Google's `hd`, the Workspace domain), it must be one of the domains too.
 *
 * Returns what was checked, for the test login's diagnostics.
 */
export function assertDomainAllowed(
  tenant: Pick<Tenant, 'restrictToDomains' | 'verifiedDomains'>,
  identity: MappedIdentity,
  claims: Record<string, unknown>,
): string {
  if (!tenant.restrictToDomains) return 'the tenant accepts any domain';
  if (identity.email === undefined) {
    throw new BrokerError('domain_not_allowed', {
      description:
        'The identity provider sent no email address; this organisation accepts only verified addresses of its own ' +
        'domains.',
    });
  }
  if (identity.emailVerified !== true) {
    throw new BrokerError('domain_not_allowed', {
      description:
        'The identity provider did not say the email address is verified; this organisation accepts only verified ' +
        'addresses.',
    });
  }
  const domain = emailDomain(identity.email);
  if (domain === undefined || !tenant.verifiedDomains.includes(domain)) throw new BrokerError('domain_not_allowed');
  if (claims.hd !== undefined) {
    const hd = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : undefined;
    if (hd === undefined || !tenant.verifiedDomains.includes(hd)) {
      throw new BrokerError('domain_not_allowed', {
        description: 'The account belongs to another organisation at the identity provider.',
      });
    }
    return `verified email at ${domain}, hosted domain (hd) ${hd}: both verified domains of the tenant`;
  }
  return `verified email at ${domain}, a verified domain of the tenant`;
}
