import { z } from 'zod';
import { appServesTenant } from '../login/start/assert-app-allowed.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import { emailDomain } from '../login/host-names.js';
import { DOMAIN_NAME } from '../tenants/tenant.schema.js';

export const discoverQuerySchema = z.object({
  email: z.string().max(320).describe('The learner’s email address'),
});

export type Discovery = { sso: true; tenant: string } | { sso: false };

/**
 * `GET /api/sso/discover?email=` (contract v4), for an authenticated app: is there SSO for
 * this address? Yes — and which tenant — only when its domain is a verified domain of a tenant
 * the app may use that has an enabled connection. Everything else, a malformed address
 * included, is `{"sso": false}`: the answer never names a tenant the app may not use, nor says
 * why not. Reads the configuration cache only.
 */
export class DiscoveryService {
  constructor(
    private readonly deps: {
      apps: Pick<ConfigCache['apps'], 'findById'>;
      tenants: Pick<ConfigCache['tenants'], 'findByDomain'>;
      connections: Pick<ConfigCache['connections'], 'findDefaultEnabled'>;
    },
  ) {}

  async discover(appId: string, query: unknown): Promise<Discovery> {
    const email = (query as { email?: unknown } | undefined)?.email;
    const domain = typeof email === 'string' && email.length <= 320 ? emailDomain(email.trim()) : undefined;
    if (domain === undefined || !DOMAIN_NAME.test(domain)) return { sso: false };
    const [app, tenant] = await Promise.all([this.deps.apps.findById(appId), this.deps.tenants.findByDomain(domain)]);
    if (!app || !tenant || !appServesTenant(app, tenant.id)) return { sso: false };
    const connection = await this.deps.connections.findDefaultEnabled(tenant.id);
    return connection ? { sso: true, tenant: tenant.slug } : { sso: false };
  }
}
