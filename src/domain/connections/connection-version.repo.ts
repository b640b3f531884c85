import type { Db } from '../../db/database.js';
import type { Prisma } from '../../db/generated/client.js';
import type { ValidationReport } from '../../oidc/validate-idp.js';
import type { Connection } from './connection.repo.js';

/**
 * Connection versions (contract v3): a connection's IdP settings, numbered. The active
 * version's settings are also the connections row that logins read; writes that touch both
 * (create, PATCH, activate, delete) are in ConnectionRepo, in one transaction each.
 */
export type VersionStatus = 'draft' | 'active' | 'retired';
/**
 * A draft replaced by a newer one is kept as `discarded`, hidden from the API: its number is
 * never given to another draft (a test result or link names one set of settings forever), and
 * it can never be activated.
 */
const DISCARDED = 'discarded';
export type VersionAuthor = 'admin' | 'setup-link';

/** What a version fixes: a connection's IdP settings and options, without its secret. */
export const VERSIONED_FIELDS = [
  'issuer',
  'discoveryUrl',
  'clientId',
  'tokenEndpointAuthMethod',
  'signingKeyId',
  'assertionAudience',
  'scopes',
  'subjectClaim',
  'allowedTenantIds',
  'assumeEmailVerified',
  'claimMapping',
  'fetchUserinfo',
  'acrValues',
] as const satisfies readonly (keyof Connection)[];

export type VersionSettings = Pick<Connection, (typeof VERSIONED_FIELDS)[number]>;

export interface ConnectionVersion {
  connectionId: string;
  version: number;
  tenantId: string;
  status: VersionStatus;
  settings: VersionSettings;
  clientSecretEnc: string | null;
  clientSecretExpiresAt: Date | null;
  createdAt: Date;
  createdBy: VersionAuthor;
  activatedAt: Date | null;
  lastTestAt: Date | null;
  lastTestOk: boolean | null;
  lastValidation: ValidationReport | null;
}

export function settingsOf(connection: VersionSettings): VersionSettings {
  return Object.fromEntries(VERSIONED_FIELDS.map((field) => [field, connection[field]])) as VersionSettings;
}

type Row = Prisma.ConnectionVersionGetPayload<object>;

/** Serialises writes to one connection's versions, until the transaction ends. */
export async function lockVersions(tx: Prisma.TransactionClient, connectionId: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${connectionId}))::text`;
}

/** Locks the connection's versions (lockVersions) and gives the number after every one so far. */
async function nextVersion(tx: Prisma.TransactionClient, connectionId: string): Promise<number> {
  await lockVersions(tx, connectionId);
  const last = await tx.connectionVersion.aggregate({ where: { connectionId }, _max: { version: true } });
  return (last._max.version ?? 0) + 1;
}

export function toVersion(row: Row): ConnectionVersion {
  return {
    ...row,
    status: row.status as VersionStatus,
    createdBy: row.createdBy as VersionAuthor,
    // Versions saved before a setting existed have its default: a rollback to one clears it.
    settings: { acrValues: [], ...(row.settings as object) } as unknown as VersionSettings,
    lastValidation: row.lastValidation as unknown as ValidationReport | null,
  };
}

/** Who made a version, and until when its client secret is valid (when the IdP said). */
export interface VersionMeta {
  createdBy: ConnectionVersion['createdBy'];
  clientSecretExpiresAt?: Date | null | undefined;
}

/** The active version's row: the previous active one retires. */
export async function insertActiveVersion(
  tx: Prisma.TransactionClient,
  connection: Connection,
  meta: VersionMeta,
): Promise<void> {
  const version = await nextVersion(tx, connection.id);
  const previous = await tx.connectionVersion.findFirst({ where: { connectionId: connection.id, status: 'active' } });
  await tx.connectionVersion.updateMany({
    where: { connectionId: connection.id, status: 'active' },
    data: { status: 'retired' },
  });
  // A secret kept from the previous version keeps its expiry date unless a new one is given.
  const keptExpiry = previous?.clientSecretEnc === connection.clientSecretEnc ? previous.clientSecretExpiresAt : null;
  await tx.connectionVersion.create({
    data: {
      connectionId: connection.id,
      version,
      tenantId: connection.tenantId,
      status: 'active',
      settings: settingsOf(connection) as unknown as Prisma.InputJsonObject,
      clientSecretEnc: connection.clientSecretEnc,
      clientSecretExpiresAt: meta.clientSecretExpiresAt === undefined ? keptExpiry : meta.clientSecretExpiresAt,
      createdBy: meta.createdBy,
      activatedAt: new Date(),
    },
  });
}

/** The only Prisma caller for versions alone: reads, drafts, test results. */
export class ConnectionVersionRepo {
  constructor(private readonly db: Db) {}

  /** Newest first. */
  async list(connectionId: string): Promise<ConnectionVersion[]> {
    const rows = await this.db.connectionVersion.findMany({
      where: { connectionId, status: { not: DISCARDED } },
      orderBy: { version: 'desc' },
    });
    return rows.map(toVersion);
  }

  async find(connectionId: string, version: number): Promise<ConnectionVersion | undefined> {
    const row = await this.db.connectionVersion.findUnique({
      where: { connectionId_version: { connectionId, version } },
    });
    return row && row.status !== DISCARDED ? toVersion(row) : undefined;
  }

  async findActive(connectionId: string): Promise<ConnectionVersion | undefined> {
    return this.#findOne(connectionId, 'active');
  }

  async findDraft(connectionId: string): Promise<ConnectionVersion | undefined> {
    return this.#findOne(connectionId, 'draft');
  }

  async #findOne(connectionId: string, status: VersionStatus): Promise<ConnectionVersion | undefined> {
    const row = await this.db.connectionVersion.findFirst({ where: { connectionId, status } });
    return row ? toVersion(row) : undefined;
  }

  /**
   * A new draft, numbered after every version so far; it replaces (discards) the connection's
   * draft, if any (at most one draft). Serialised per connection by a transaction-scoped advisory lock.
   */
  async saveDraft(
    tenantId: string,
    connectionId: string,
    draft: Pick<ConnectionVersion, 'settings' | 'clientSecretEnc' | 'clientSecretExpiresAt' | 'createdBy'>,
  ): Promise<ConnectionVersion> {
    return this.db.$transaction(async (tx) => {
      const version = await nextVersion(tx, connectionId);
      await tx.connectionVersion.updateMany({ where: { connectionId, status: 'draft' }, data: { status: DISCARDED } });
      const row = await tx.connectionVersion.create({
        data: {
          ...draft,
          settings: draft.settings as unknown as Prisma.InputJsonObject,
          connectionId,
          tenantId,
          version,
          status: 'draft',
        },
      });
      return toVersion(row);
    });
  }

  /** The last validation report of a version. */
  async recordValidation(connectionId: string, version: number, report: ValidationReport): Promise<void> {
    await this.db.connectionVersion.updateMany({
      where: { connectionId, version },
      data: { lastValidation: report as unknown as Prisma.InputJsonObject },
    });
  }

  /** The outcome of a test login against a version. */
  async recordTest(connectionId: string, version: number, ok: boolean): Promise<void> {
    await this.db.connectionVersion.updateMany({
      where: { connectionId, version },
      data: { lastTestAt: new Date(), lastTestOk: ok },
    });
  }

  /** Active and draft versions whose client secret has an expiry date, soonest first, with their tenant's slug. */
  async listSecretExpiries(): Promise<(ConnectionVersion & { tenantSlug: string })[]> {
    const rows = await this.db.connectionVersion.findMany({
      where: { status: { in: ['active', 'draft'] }, clientSecretExpiresAt: { not: null } },
      orderBy: { clientSecretExpiresAt: 'asc' },
      include: { tenant: { select: { slug: true } } },
    });
    return rows.map(({ tenant, ...row }) => ({ ...toVersion(row), tenantSlug: tenant.slug }));
  }
}
