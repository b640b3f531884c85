import type { Db } from '../../db/database.js';
import type { Prisma } from '../../db/generated/client.js';

export type SetupLink = Prisma.SetupLinkGetPayload<object>;

/** The only Prisma caller for setup links: stored by the SHA-256 of their token, never the token. */
export class SetupLinkRepo {
  constructor(private readonly db: Db) {}

  async create(
    link: Omit<SetupLink, 'createdAt' | 'usedAt' | 'revokedAt' | 'idpProduct' | 'authMethod'>,
  ): Promise<SetupLink> {
    return this.db.setupLink.create({ data: link });
  }

  /** Newest first. */
  async listByTenant(tenantId: string): Promise<SetupLink[]> {
    return this.db.setupLink.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' } });
  }

  /** False when there is no such link (an already revoked one stays revoked, at its first time). */
  async revoke(id: string): Promise<boolean> {
    const link = await this.db.setupLink.findUnique({ where: { id } });
    if (!link) return false;
    if (link.revokedAt === null) await this.db.setupLink.update({ where: { id }, data: { revokedAt: new Date() } });
    return true;
  }

  /** The link a token names, if it is neither expired nor revoked. */
  async findUsable(tokenHash: string): Promise<SetupLink | undefined> {
    const link = await this.db.setupLink.findFirst({
      where: { tokenHash, revokedAt: null, expiresAt: { gt: new Date() } },
    });
    return link ?? undefined;
  }

  /** Keeps what the holder chose in step 1 (either may be left as it was). */
  async saveChoice(id: string, choice: { idpProduct: string | null; authMethod: string | null }): Promise<void> {
    await this.db.setupLink.update({ where: { id }, data: choice });
  }

  /**
   * The latest choice made on any link of this connection: a new link (a rotation, another day)
   * starts where the last one left off.
   */
  async lastChoice(
    tenantId: string,
    connectionId: string,
  ): Promise<{ idpProduct: string | null; authMethod: string | null } | undefined> {
    const link = await this.db.setupLink.findFirst({
      where: { tenantId, connectionId, idpProduct: { not: null } },
      orderBy: { createdAt: 'desc' },
      select: { idpProduct: true, authMethod: true },
    });
    return link ?? undefined;
  }

  /** Records the first use of a link. */
  async markUsed(id: string): Promise<void> {
    await this.db.setupLink.updateMany({ where: { id, usedAt: null }, data: { usedAt: new Date() } });
  }
}
