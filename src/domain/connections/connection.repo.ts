import type { Db } from '../../db/database.js';
import { unlessMissing } from '../../db/prisma-errors.js';
import type { Prisma } from '../../db/generated/client.js';
import type { ClaimMapping } from '../../oidc/identity.js';
import {
  insertActiveVersion,
  lockVersions,
  settingsOf,
  toVersion,
  type ConnectionVersion,
} from './connection-version.repo.js';
import type { VersionMeta } from './connection-version.repo.js';
export type { VersionMeta } from './connection-version.repo.js';

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
  /** Sent on every login after the app's `acr_values`; the ID token's `acr` must be one of them. */
  acrValues: string[];
  isDefault: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Set on a version's settings under test (a test login of a draft): not the active settings. */
  testedVersion?: number;
}

export type ConnectionData = Omit<Connection, 'id' | 'tenantId' | 'createdAt' | 'updatedAt' | 'testedVersion'>;

type Row = Prisma.ConnectionGetPayload<object>;
type Tx = Prisma.TransactionClient;

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

  /** A connection and its version 1, active. */
  async create(
    tenantId: string,
    id: string,
    data: Omit<ConnectionData, 'isDefault'> & { isDefault?: boolean | undefined },
    meta: VersionMeta,
  ): Promise<Connection> {
    return this.db.$transaction(async (tx) => {
      const connection = await this.#insert(tx, tenantId, id, data);
      await insertActiveVersion(tx, connection, meta);
      return connection;
    });
  }

  async #insert(
    tx: Tx,
    tenantId: string,
    id: string,
    data: Omit<ConnectionData, 'isDefault'> & { isDefault?: boolean | undefined },
  ): Promise<Connection> {
    // The first connection of a tenant is its default unless told otherwise.
    const isDefault = data.isDefault ?? (await tx.connection.count({ where: { tenantId } })) === 0;
    if (isDefault) await tx.connection.updateMany({ where: { tenantId, isDefault: true }, data: { isDefault: false } });
    const row = await tx.connection.create({
      data: { ...data, claimMapping: data.claimMapping as Prisma.InputJsonObject, isDefault, id, tenantId },
    });
    return toConnection(row);
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

  /**
   * The updated connection, or undefined when there is no such id. A change of its IdP settings
   * or secret is drafted and activated at once: a new active version.
   */
  async update(
    id: string,
    tenantId: string,
    data: Partial<ConnectionData>,
    meta: VersionMeta,
  ): Promise<Connection | undefined> {
    return unlessMissing(
      this.db.$transaction(async (tx) => {
        if (data.isDefault === true) {
          await tx.connection.updateMany({
            where: { tenantId, isDefault: true, NOT: { id } },
            data: { isDefault: false },
          });
        }
        const { claimMapping, ...rest } = data;
        const before = await tx.connection.findUnique({ where: { id } });
        const row = await tx.connection.update({
          where: { id },
          data: { ...rest, ...(claimMapping && { claimMapping: claimMapping as Prisma.InputJsonObject }) },
        });
        const updated = toConnection(row);
        const fingerprint = (c: Connection) => JSON.stringify([settingsOf(c), c.clientSecretEnc]);
        const changed = !before || fingerprint(toConnection(before)) !== fingerprint(updated);
        if (changed || meta.clientSecretExpiresAt !== undefined) await insertActiveVersion(tx, updated, meta);
        return updated;
      }),
    );
  }

  /**
   * Makes a version the active one: the previous active version retires and the connection
   * row takes the version's settings (it is created, when a setup link's first version is
   * activated). `requireTested`: refused unless the version is retired (a rollback) or its
   * last test login succeeded — checked inside the transaction. Undefined: no such version.
   */
  async activateVersion(
    connectionId: string,
    version: number,
    requireTested: boolean,
  ): Promise<{ connection: Connection; version: ConnectionVersion } | 'not_tested' | undefined> {
    return this.db.$transaction(async (tx) => {
      await lockVersions(tx, connectionId);
      const found = await tx.connectionVersion.findUnique({
        where: { connectionId_version: { connectionId, version } },
      });
      if (!found || found.status === 'discarded') return undefined;
      const chosen = toVersion(found);
      if (requireTested && chosen.status === 'draft' && chosen.lastTestOk !== true) return 'not_tested';
      if (chosen.status !== 'active') {
        await tx.connectionVersion.updateMany({
          where: { connectionId, status: 'active' },
          data: { status: 'retired' },
        });
        await tx.connectionVersion.update({
          where: { connectionId_version: { connectionId, version } },
          data: { status: 'active', activatedAt: new Date() },
        });
      }
      const data = { ...chosen.settings, clientSecretEnc: chosen.clientSecretEnc };
      const existing = await tx.connection.findUnique({ where: { id: connectionId } });
      const connection = existing
        ? toConnection(
            await tx.connection.update({
              where: { id: connectionId },
              data: { ...data, claimMapping: data.claimMapping as Prisma.InputJsonObject },
            }),
          )
        : await this.#insert(tx, chosen.tenantId, connectionId, { ...data, enabled: true });
      const activated = await tx.connectionVersion.findUniqueOrThrow({
        where: { connectionId_version: { connectionId, version } },
      });
      return { connection, version: toVersion(activated) };
    });
  }

  /** False when there is no such connection. Its versions go with it. */
  async delete(id: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      await tx.connectionVersion.deleteMany({ where: { connectionId: id } });
      return (await unlessMissing(tx.connection.delete({ where: { id } }))) !== undefined;
    });
  }

  /** Every sealed client secret, of connections and their versions, by connection id (SECRET_KEY rotation). */
  async listSealedSecrets(): Promise<{ id: string; sealed: string }[]> {
    const where = { clientSecretEnc: { not: null } };
    const current = await this.db.connection.findMany({ where, select: { id: true, clientSecretEnc: true } });
    const versions = await this.db.connectionVersion.findMany({
      where,
      select: { connectionId: true, clientSecretEnc: true },
    });
    const all = [...current.map((row) => ({ ...row, connectionId: row.id })), ...versions];
    const unique = new Map(all.map((row) => [`${row.connectionId} ${row.clientSecretEnc}`, row]));
    return [...unique.values()].flatMap((row) =>
      row.clientSecretEnc === null ? [] : [{ id: row.connectionId, sealed: row.clientSecretEnc }],
    );
  }

  /**
   * Replaces a sealed client secret wherever it is still `before` (the connection and its
   * versions share it): a concurrent admin update wins.
   */
  async replaceSealedSecret(id: string, before: string, after: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const data = { clientSecretEnc: after };
      const rows = await tx.connection.updateMany({ where: { id, clientSecretEnc: before }, data });
      const versions = await tx.connectionVersion.updateMany({
        where: { connectionId: id, clientSecretEnc: before },
        data,
      });
      return rows.count + versions.count > 0;
    });
  }
}
