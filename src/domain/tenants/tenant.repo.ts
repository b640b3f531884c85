import { randomUUID } from 'node:crypto';
import { newToken } from '../domains/domain.repo.js';
import type { Db } from '../../db/database.js';
import { unlessMissing } from '../../db/prisma-errors.js';
import type { CreateTenantInput, PatchTenantInput } from './tenant.schema.js';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  /** Every domain it claims, verified or not (what the admin API's `domains` shows). */
  domains: string[];
  /** The verified ones: only these route learners and count for restrictToDomains. */
  verifiedDomains: string[];
  restrictToDomains: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const include = { domains: { select: { domain: true, verified: true }, orderBy: { domain: 'asc' } } } as const;

type Row = {
  id: string;
  slug: string;
  name: string;
  restrictToDomains: boolean;
  createdAt: Date;
  updatedAt: Date;
  domains: { domain: string; verified: boolean }[];
};

function toTenant(row: Row): Tenant {
  return {
    ...row,
    domains: row.domains.map((d) => d.domain),
    verifiedDomains: row.domains.filter((d) => d.verified).map((d) => d.domain),
  };
}

/** A new claim: unverified, with the token its TXT record must carry. */
export const newClaim = (domain: string) => ({ domain, token: newToken() });

/** The only Prisma caller for tenants and their domains. */
export class TenantRepo {
  constructor(private readonly db: Db) {}

  async create(input: CreateTenantInput): Promise<Tenant> {
    const row = await this.db.tenant.create({
      data: {
        id: randomUUID(),
        slug: input.slug,
        name: input.name,
        restrictToDomains: input.restrictToDomains,
        domains: { create: input.domains.map(newClaim) },
      },
      include,
    });
    return toTenant(row);
  }

  async list(): Promise<Tenant[]> {
    return (await this.db.tenant.findMany({ include, orderBy: { slug: 'asc' } })).map(toTenant);
  }

  async findBySlug(slug: string): Promise<Tenant | undefined> {
    const row = await this.db.tenant.findUnique({ where: { slug }, include });
    return row ? toTenant(row) : undefined;
  }

  async findById(id: string): Promise<Tenant | undefined> {
    const row = await this.db.tenant.findUnique({ where: { id }, include });
    return row ? toTenant(row) : undefined;
  }

  /** The tenant that verified `domain`: unverified claims route nobody. */
  async findByDomain(domain: string): Promise<Tenant | undefined> {
    const row = await this.db.tenantDomain.findFirst({
      where: { domain, verified: true },
      select: { tenant: { include } },
    });
    return row ? toTenant(row.tenant) : undefined;
  }

  /** The updated tenant, or undefined when there is no such slug. */
  async update(slug: string, patch: PatchTenantInput): Promise<Tenant | undefined> {
    const row = await unlessMissing(
      this.db.tenant.update({
        where: { slug },
        data: {
          name: patch.name,
          restrictToDomains: patch.restrictToDomains,
          // Domains it keeps keep their state; new ones are claims; the others go.
          ...(patch.domains && {
            domains: {
              deleteMany: { domain: { notIn: patch.domains } },
              createMany: { data: patch.domains.map(newClaim), skipDuplicates: true },
            },
          }),
        },
        include,
      }),
    );
    return row && toTenant(row);
  }

  /** False when there is no such slug. */
  async delete(slug: string): Promise<boolean> {
    return (await unlessMissing(this.db.tenant.delete({ where: { slug } }))) !== undefined;
  }
}
