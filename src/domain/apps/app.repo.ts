import type { Db } from '../../db/database.js';
import { unlessMissing } from '../../db/prisma-errors.js';

export interface App {
  id: string;
  name: string;
  secretHash: string;
  returnUrls: string[];
  allTenants: boolean;
  /** Slugs of the tenants allowed, when not allTenants. */
  tenants: string[];
  /** Ids of the tenants allowed, when not allTenants. */
  tenantIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

const include = { tenants: { select: { tenant: { select: { id: true, slug: true } } } } } as const;

type Row = {
  id: string;
  name: string;
  secretHash: string;
  returnUrls: string[];
  allTenants: boolean;
  createdAt: Date;
  updatedAt: Date;
  tenants: { tenant: { id: string; slug: string } }[];
};

function toApp(row: Row): App {
  const tenants = row.tenants.map((t) => t.tenant).sort((a, b) => a.slug.localeCompare(b.slug));
  return { ...row, tenants: tenants.map((t) => t.slug), tenantIds: tenants.map((t) => t.id) };
}

/** The only Prisma caller for apps and their tenant list. */
export class AppRepo {
  constructor(private readonly db: Db) {}

  async create(data: {
    id: string;
    name: string;
    secretHash: string;
    returnUrls: string[];
    tenantIds: string[] | undefined;
  }): Promise<App> {
    const row = await this.db.app.create({
      data: {
        id: data.id,
        name: data.name,
        secretHash: data.secretHash,
        returnUrls: data.returnUrls,
        allTenants: data.tenantIds === undefined,
        tenants: { create: (data.tenantIds ?? []).map((tenantId) => ({ tenantId })) },
      },
      include,
    });
    return toApp(row);
  }

  async findById(id: string): Promise<App | undefined> {
    const row = await this.db.app.findUnique({ where: { id }, include });
    return row ? toApp(row) : undefined;
  }

  /** Apps that registered exactly this return URL. */
  async listByReturnUrl(url: string): Promise<App[]> {
    return (
      await this.db.app.findMany({ where: { returnUrls: { has: url } }, include, orderBy: { createdAt: 'asc' } })
    ).map(toApp);
  }

  async list(): Promise<App[]> {
    return (await this.db.app.findMany({ include, orderBy: { createdAt: 'asc' } })).map(toApp);
  }

  async update(
    id: string,
    data: {
      name?: string | undefined;
      returnUrls?: string[] | undefined;
      secretHash?: string;
      tenantIds?: string[] | null | undefined;
    },
  ): Promise<App | undefined> {
    const row = await unlessMissing(
      this.db.app.update({
        where: { id },
        data: {
          name: data.name,
          returnUrls: data.returnUrls,
          secretHash: data.secretHash,
          ...(data.tenantIds !== undefined && {
            allTenants: data.tenantIds === null,
            tenants: { deleteMany: {}, create: (data.tenantIds ?? []).map((tenantId) => ({ tenantId })) },
          }),
        },
        include,
      }),
    );
    return row && toApp(row);
  }

  /** False when there is no such app. */
  async delete(id: string): Promise<boolean> {
    return (await unlessMissing(this.db.app.delete({ where: { id } }))) !== undefined;
  }
}
