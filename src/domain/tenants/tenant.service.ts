import { isUniqueViolation } from '../../db/prisma-errors.js';
import { notFound } from '../not-found.js';
import { BrokerError } from '../../errors/broker-error.js';
import { parseInput } from '../validation.js';
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

/** A unique violation on a tenant write is either its slug or one of its domains. */
function conflict(error: unknown): BrokerError {
  const target = JSON.stringify((error as { meta?: unknown }).meta ?? '');
  const what = /domain/.test(target)
    ? 'One of these domains belongs to another tenant.'
    : 'A tenant with this slug exists.';
  return new BrokerError('conflict', { description: what, cause: error });
}

export class TenantService {
  constructor(
    private readonly tenants: TenantRepo,
    /** Tells every broker process the configuration changed (live config). */
    private readonly announce: () => void = () => {},
  ) {}

  async create(body: unknown): Promise<TenantView> {
    const input = parseInput(createTenantSchema, body);
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
