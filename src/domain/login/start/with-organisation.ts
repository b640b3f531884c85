import { isBrokerError } from '../../../errors/broker-error.js';
import type { Tenant } from '../../tenants/tenant.repo.js';

/** Names the organisation on a learner's error page, once the tenant is known. */
export function withOrganisation(error: unknown, tenant: Pick<Tenant, 'name'>): unknown {
  if (isBrokerError(error)) error.organisation ??= tenant.name;
  return error;
}
