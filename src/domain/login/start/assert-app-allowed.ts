import { BrokerError } from '../../../errors/broker-error.js';
import type { App } from '../../apps/app.repo.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import { withOrganisation } from './with-organisation.js';

/** Whether the app is enabled for the tenant: all tenants, or this one listed. */
export function appServesTenant(app: Pick<App, 'allTenants' | 'tenantIds'>, tenantId: string): boolean {
  return app.allTenants || app.tenantIds.includes(tenantId);
}

/**
 * Guarantees: the app is enabled for the learner's organisation. An app id is public, so
 * without this any tenant's users could be sent to any app.
 */
export function assertAppAllowed(app: App, tenant: Tenant): void {
  if (!appServesTenant(app, tenant.id)) throw withOrganisation(new BrokerError('tenant_not_allowed'), tenant);
}
