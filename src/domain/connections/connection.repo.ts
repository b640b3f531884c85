import type { Db } from '../../db/database.js';
import { unlessMissing } from '../../db/prisma-errors.js';
import type { Prisma } from '../../db/generated/client.js';
import type { ClaimMapping } from '../../oidc/identity.js';

export interface Connection {
  id: string;
  tenantId: string;
  issuer: string;
  discoveryUrl: string | null;
  clientId: string;
  clientSecretEnc: string | null;
  tokenEndpointAuthMethod: 'client_secret_post' | 'private_key_jwt';
  signingKeyId: string | null;
  assertionAudience: 'token_endpoint' | 'issuer';
  scopes: string[];
  subjectClaim: 'sub' | 'oid';
  allowedTenantIds: string[];
  assumeEmailVerified: boolean;
  claimMapping: ClaimMapping;
  fetchUserinfo: boolean;
  isDefault: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type ConnectionData = Omit<Connection, 'id' | 'tenantId' | 'createdAt' | 'updatedAt'>;

type Row = Prisma.ConnectionGetPayload<object>;

function toConnection(row: Row): Connection {
  return {
    ...row,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as Connection['tokenEndpointAuthMethod'],
    assertionAudience: row.assertionAudience as Connection['assertionAudience'],
    subjectClaim: row.subjectClaim as Connection['subjectClaim'],
    claimMapping: (row.claimMapping ?? {}) as ClaimMapping,
  };
}

/** The only Prisma caller for connections. Writes that touch `isDefault` keep one default per tenant. */
export class ConnectionRepo {
  constructor(private readonly db: Db) {}

  async create(
    tenantId: string,
    id: string,
    data: Omit<ConnectionData, 'isDefault'> & { isDefault?: boolean | undefined },
  ): Promise<Connection> {
    return this.db.$transaction(async (tx) => {
      // The first connection of a tenant is its default unless told otherwise.
      const isDefault = data.isDefault ?? (await tx.connection.count({ where: { tenantId } })) === 0;
      if (isDefault)
        await tx.connection.updateMany({ where: { tenantId, isDefault: true }, data: { isDefault: false } });
      const row = await tx.connection.create({
        data: { ...data, claimMapping: data.claimMapping as Prisma.InputJsonObject, isDefault, id, tenantId },
      });
      return toConnection(row);
    });
  }

  async findById(id: string): Promise<Connection | undefined> {
    const row = await this.db.connection.findUnique({ where: { id } });
    return row ? toConnection(row) : undefined;
  }

  /** Enabled connections with exactly this issuer (any tenant). */
  async listEnabledByIssuer(issuer: string): Promise<Connection[]> {
    const rows = await this.db.connection.findMany({ where: { issuer, enabled: true }, orderBy: { createdAt: 'asc' } });
    return rows.map(toConnection);
  }

  async listByTenant(tenantId: string): Promise<Connection[]> {
    const rows = await this.db.connection.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toConnection);
  }

  /** The tenant's default enabled connection, else its oldest enabled one. */
  async findDefaultEnabled(tenantId: string): Promise<Connection | undefined> {
    const row = await this.db.connection.findFirst({
      where: { tenantId, enabled: true },
      orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }],
    });
    return row ? toConnection(row) : undefined;
  }

  /** The updated connection, or undefined when there is no such id. */
  async update(id: string, tenantId: string, data: Partial<ConnectionData>): Promise<Connection | undefined> {
    return unlessMissing(
      this.db.$transaction(async (tx) => {
        if (data.isDefault === true) {
          await tx.connection.updateMany({
            where: { tenantId, isDefault: true, NOT: { id } },
            data: { isDefault: false },
          });
        }
        const { claimMapping, ...rest } = data;
        const row = await tx.connection.update({
          where: { id },
          data: { ...rest, ...(claimMapping && { claimMapping: claimMapping as Prisma.InputJsonObject }) },
        });
        return toConnection(row);
      }),
    );
  }

  /** False when there is no such connection. */
  async delete(id: string): Promise<boolean> {
    return (await unlessMissing(this.db.connection.delete({ where: { id } }))) !== undefined;
  }

  /** Every sealed client secret, by connection id (SECRET_KEY rotation). */
  async listSealedSecrets(): Promise<{ id: string; sealed: string }[]> {
    const rows = await this.db.connection.findMany({
      where: { clientSecretEnc: { not: null } },
      select: { id: true, clientSecretEnc: true },
    });
    return rows.flatMap((row) => (row.clientSecretEnc === null ? [] : [{ id: row.id, sealed: row.clientSecretEnc }]));
  }

  /** Replaces a sealed client secret only if it is still `before`: a concurrent admin update wins. */
  async replaceSealedSecret(id: string, before: string, after: string): Promise<boolean> {
    const updated = await this.db.connection.updateMany({
      where: { id, clientSecretEnc: before },
      data: { clientSecretEnc: after },
    });
    return updated.count === 1;
  }
}
