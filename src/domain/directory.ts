import type { Metrics } from '../observability/metrics.js';
import type { AppRepo } from './apps/app.repo.js';
import type { ConnectionRepo } from './connections/connection.repo.js';
import type { TenantRepo } from './tenants/tenant.repo.js';

/**
 * What logins read of the configuration — apps, tenants, connections — cached in memory, so
 * the steady state reads nothing from the database for them. Entries (also "not found") live
 * at most `ttlMs`; ConfigChanges clears everything on any admin write, in every process.
 */
export class Directory {
  readonly #entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly deps: {
      tenants: TenantRepo;
      connections: ConnectionRepo;
      apps: AppRepo;
      ttlMs: number;
      maxEntries?: number;
      metrics?: Pick<Metrics, 'configCache'>;
    },
  ) {}

  #get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.deps.ttlMs) {
      this.deps.metrics?.configCache.inc({ result: 'hit' });
      return hit.value as Promise<T>;
    }
    this.deps.metrics?.configCache.inc({ result: 'miss' });
    const value = load();
    this.#entries.set(key, { at: now, value });
    // A failed read is not remembered.
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    if (this.#entries.size > (this.deps.maxEntries ?? 50_000)) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }

  readonly apps = {
    findById: (id: string) => this.#get(`app:${id}`, () => this.deps.apps.findById(id)),
    listByReturnUrl: (url: string) => this.deps.apps.listByReturnUrl(url),
  };

  readonly tenants = {
    findBySlug: (slug: string) => this.#get(`tenant-slug:${slug}`, () => this.deps.tenants.findBySlug(slug)),
    findById: (id: string) => this.#get(`tenant:${id}`, () => this.deps.tenants.findById(id)),
    findByDomain: (domain: string) => this.#get(`tenant-domain:${domain}`, () => this.deps.tenants.findByDomain(domain)),
  };

  readonly connections = {
    findById: (id: string) => this.#get(`connection:${id}`, () => this.deps.connections.findById(id)),
    findDefaultEnabled: (tenantId: string) => this.#get(`default-connection:${tenantId}`, () => this.deps.connections.findDefaultEnabled(tenantId)),
    listEnabledByIssuer: (issuer: string) => this.deps.connections.listEnabledByIssuer(issuer),
  };
}
