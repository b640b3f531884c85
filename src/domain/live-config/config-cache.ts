import { LRUCache } from 'lru-cache';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AppRepo } from '../apps/app.repo.js';
import type { ConnectionRepo } from '../connections/connection.repo.js';
import { DOMAIN_NAME, slugSchema } from '../tenants/tenant.schema.js';
import type { TenantRepo } from '../tenants/tenant.repo.js';

// The shapes of the keys logins look up. Anything else cannot name a row, so it is answered
// "not found" without a query and without an entry: the keys come from requests (app ids in
// login URLs, Host labels, login_hint domains), and an attacker must not be able to grow the
// cache, or reach the database, with them.
// Apps, tenants and connections get randomUUID() ids (app.service.ts, tenant.repo.ts, connection.service.ts).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string) => UUID.test(value);
const isSlug = (value: string) => slugSchema.safeParse(value).success;
const isDomain = (value: string) => DOMAIN_NAME.test(value);

/**
 * What logins read of the configuration — apps, tenants, connections — cached in memory, so
 * the steady state reads nothing from the database for them. Entries live at most `ttlMs`;
 * ConfigChanges clears everything on any configuration change, in every process.
 *
 * Bounded: keys are checked for shape before anything else (above); rows found are kept in
 * an LRU of `maxEntries`, and "not found" answers in a separate, smaller LRU
 * (`maxMissingEntries`), so well-formed guesses (random UUIDs) evict only other guesses,
 * never the configuration real logins use. A failed read is not remembered; a read that fails
 * because the database is away answers with the expired copy, when there is one.
 */
export class ConfigCache {
  readonly #found: LRUCache<string, Promise<unknown>> | undefined;
  readonly #missing: LRUCache<string, true> | undefined;

  constructor(
    private readonly deps: {
      tenants: Pick<TenantRepo, 'findBySlug' | 'findById' | 'findByDomain'>;
      connections: Pick<ConnectionRepo, 'findById' | 'findDefaultEnabled' | 'listEnabledByIssuer'>;
      apps: Pick<AppRepo, 'findById' | 'listByReturnUrl'>;
      /** 0 turns caching off (lru-cache would read 0 as "never expires"). */
      ttlMs: number;
      maxEntries?: number;
      maxMissingEntries?: number;
      metrics?: Pick<Metrics, 'configCache'>;
      /** The clock entries age by, in milliseconds (performance.now() unless a test moves its own). */
      clock?: { now(): number };
    },
  ) {
    if (deps.ttlMs > 0) {
      const { ttlMs: ttl, clock: perf } = deps;
      // Expired entries stay (noDeleteOnStaleGet) as the fallback while the database is away.
      this.#found = new LRUCache({ max: deps.maxEntries ?? 10_000, ttl, perf, noDeleteOnStaleGet: true });
      this.#missing = new LRUCache({ max: deps.maxMissingEntries ?? 1_000, ttl, perf });
    }
  }

  /** Entries held now, found and not found (for tests and diagnostics). */
  get size(): number {
    return (this.#found?.size ?? 0) + (this.#missing?.size ?? 0);
  }

  #get<T>(key: string, wellFormed: boolean, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!wellFormed) return Promise.resolve(undefined);
    const found = this.#found;
    const missing = this.#missing;
    if (found?.has(key) || missing?.has(key)) {
      this.deps.metrics?.configCache.inc({ result: 'hit' });
      return (found?.get(key) as Promise<T> | undefined) ?? Promise.resolve(undefined);
    }
    this.deps.metrics?.configCache.inc({ result: 'miss' });
    const stale = found?.get(key, { allowStale: true }) as Promise<T | undefined> | undefined;
    // A refresh the database cannot answer serves the expired copy: nobody can change the
    // configuration while the database is away, so that copy is still the configuration.
    const value = stale
      ? load().catch((error: unknown) => {
          if (!isDatabaseUnavailable(error)) throw error;
          this.deps.metrics?.configCache.inc({ result: 'stale' });
          return stale;
        })
      : load();
    if (!found || !missing) return value;
    // Kept while loading, so concurrent logins share one query.
    found.set(key, value);
    value.then(
      (row) => {
        // Unless clear() ran meanwhile: then this answer may be stale and is not kept at all.
        if (row !== undefined || found.peek(key) !== value) return;
        found.delete(key);
        missing.set(key, true);
      },
      () => {
        if (found.peek(key) === value) found.delete(key);
      },
    );
    return value;
  }

  clear(): void {
    this.#found?.clear();
    this.#missing?.clear();
  }

  readonly apps = {
    findById: (id: string) => this.#get(`app:${id}`, isUuid(id), () => this.deps.apps.findById(id)),
    /**
     * Whether this process holds the app (found, being looked up, or expired but kept), without
     * a query: an id it does not hold may name no app at all. Looking a held app up again costs
     * at most one query per TTL, whoever asks (redemption.plugin.ts).
     */
    isHeld: (id: string) => isUuid(id) && this.#found?.peek(`app:${id}`, { allowStale: true }) !== undefined,
    listByReturnUrl: (url: string) => this.deps.apps.listByReturnUrl(url),
  };

  readonly tenants = {
    findBySlug: (slug: string) =>
      this.#get(`tenant-slug:${slug}`, isSlug(slug), () => this.deps.tenants.findBySlug(slug)),
    findById: (id: string) => this.#get(`tenant:${id}`, isUuid(id), () => this.deps.tenants.findById(id)),
    findByDomain: (domain: string) =>
      this.#get(`tenant-domain:${domain}`, isDomain(domain), () => this.deps.tenants.findByDomain(domain)),
  };

  readonly connections = {
    findById: (id: string) => this.#get(`connection:${id}`, isUuid(id), () => this.deps.connections.findById(id)),
    findDefaultEnabled: (tenantId: string) =>
      this.#get(`default-connection:${tenantId}`, isUuid(tenantId), () =>
        this.deps.connections.findDefaultEnabled(tenantId),
      ),
    listEnabledByIssuer: (issuer: string) => this.deps.connections.listEnabledByIssuer(issuer),
  };
}
