import { isUniqueViolation } from '../../db/prisma-errors.js';
import { notFound } from '../not-found.js';
import { BrokerError } from '../../errors/broker-error.js';
import { parseInput } from '../validation.js';
import { assertClaimable } from '../domains/domain-policy.js';
import type { DomainRepo } from '../domains/domain.repo.js';
import type { Tenant, TenantRepo } from './tenant.repo.js';
import { createTenantSchema, patchTenantSchema } from './tenant.schema.js';

export interface TenantView {
  slug: string;
  name: string;
  domains: string[];
  restrictToDomains: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toTenantView(tenant: Tenant): TenantView {
  return {
    slug: tenant.slug,
    name: tenant.name,
    domains: tenant.domains,
    restrictToDomains: tenant.restrictToDomains,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
  };
}

/** A unique violation on a tenant write is its slug (domains are checked before: claims). */
function conflict(error: unknown): BrokerError {
  return new BrokerError('conflict', { description: 'A tenant with this slug exists.', cause: error });
}

export class TenantService {
  constructor(
    private readonly tenants: TenantRepo,
    /** Tells every broker process the configuration changed (live config). */
    private readonly announce: () => void = () => {},
    private readonly claims?: Pick<DomainRepo, 'verifiedElsewhere'>,
  ) {}

  /**
   * Domains written with a tenant are claims (contract v4): never a public suffix or a
   * free-mail domain (400), never a domain another tenant verified (409).
   */
  async #assertClaims(domains: readonly string[] | undefined, tenantId: string | null): Promise<void> {
    if (!domains?.length) return;
    assertClaimable(domains);
    const taken = (await this.claims?.verifiedElsewhere(domains, tenantId)) ?? [];
    if (taken.length > 0)
      throw new BrokerError('conflict', { description: `${taken.join(', ')}: verified by another organisation.` });
  }

  async create(body: unknown): Promise<TenantView> {
    const input = parseInput(createTenantSchema, body);
    await this.#assertClaims(input.domains, null);
    try {
      const view = toTenantView(await this.tenants.create(input));
      this.announce();
      return view;
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(error);
      throw error;
    }
  }

  async list(): Promise<TenantView[]> {
    return (await this.tenants.list()).map(toTenantView);
  }

  async get(slug: string): Promise<TenantView> {
    return toTenantView(await this.require(slug));
  }

  async require(slug: string): Promise<Tenant> {
    const tenant = await this.tenants.findBySlug(slug);
    return tenant ?? notFound('tenant', slug);
  }

  async update(slug: string, body: unknown): Promise<TenantView> {
    const patch = parseInput(patchTenantSchema, body);
    if (patch.domains) await this.#assertClaims(patch.domains, (await this.require(slug)).id);
    try {
      const view = toTenantView((await this.tenants.update(slug, patch)) ?? notFound('tenant', slug));
      this.announce();
      return view;
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(error);
      throw error;
    }
  }

  async delete(slug: string): Promise<void> {
    if (!(await this.tenants.delete(slug))) notFound('tenant', slug);
    this.announce();
  }
}
