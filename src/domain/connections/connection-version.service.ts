import { z } from 'zod';
import { BrokerError } from '../../errors/broker-error.js';
import { defaultDiscoveryUrl } from '../../oidc/idp-url.js';
import type { ValidationReport, ValidationReports } from '../../oidc/validate-idp.js';
import { notFound } from '../not-found.js';
import { invalidField, parseInput } from '../validation.js';
import type { ConnectionVersion, ConnectionVersionRepo, VersionAuthor } from './connection-version.repo.js';
import { settingsOf, type VersionSettings } from './connection-version.repo.js';
import type { Connection, ConnectionRepo } from './connection.repo.js';
import { draftVersionSchema } from './connection.schema.js';
import { toDate, type ConnectionService } from './connection.service.js';
import type { Events } from '../events/events.service.js';
import type { TenantRepo } from '../tenants/tenant.repo.js';

export type VersionView = Omit<VersionSettings, 'discoveryUrl'> & {
  version: number;
  status: ConnectionVersion['status'];
  createdAt: string;
  createdBy: VersionAuthor;
  activatedAt?: string;
  lastTest?: { at: string; ok: boolean };
  discoveryUrl: string;
  hasClientSecret: boolean;
  clientSecretExpiresAt?: string;
};

export function toVersionView(v: ConnectionVersion): VersionView {
  return {
    version: v.version,
    status: v.status,
    createdAt: v.createdAt.toISOString(),
    createdBy: v.createdBy,
    ...(v.activatedAt && { activatedAt: v.activatedAt.toISOString() }),
    ...(v.lastTestAt && { lastTest: { at: v.lastTestAt.toISOString(), ok: v.lastTestOk === true } }),
    ...v.settings,
    discoveryUrl: v.settings.discoveryUrl ?? defaultDiscoveryUrl(v.settings.issuer),
    hasClientSecret: v.clientSecretEnc !== null,
    ...(v.clientSecretExpiresAt && { clientSecretExpiresAt: v.clientSecretExpiresAt.toISOString() }),
  };
}

export const activateSchema = z.strictObject({ force: z.boolean().optional() });

/** What a connection that does not exist yet starts from (a setup link's first draft). */
const NEW_CONNECTION_DEFAULTS = {
  discoveryUrl: null,
  signingKeyId: null,
  assertionAudience: 'token_endpoint',
  scopes: [],
  subjectClaim: 'sub',
  allowedTenantIds: [],
  assumeEmailVerified: false,
  claimMapping: {},
  fetchUserinfo: false,
  acrValues: [],
} as const;

/**
 * Connection versions (contract v3): draft → validate → test login → activate, and rollback
 * by activating a retired version. Nothing here edits the settings logins use, except
 * activation, which swaps them on every replica at once (the connection row changes, and
 * live configuration tells every process).
 */
export class ConnectionVersionService {
  constructor(
    private readonly deps: {
      versions: ConnectionVersionRepo;
      connections: Pick<ConnectionRepo, 'findById' | 'activateVersion'>;
      connectionService: Pick<
        ConnectionService,
        'sealSecret' | 'assertRules' | 'assertSigningKey' | 'validateSettings'
      >;
      tenants: Pick<TenantRepo, 'findById'>;
      /** connection.activated (contract v4). */
      events: Pick<Events, 'emit'>;
      /** Tells every broker process the configuration changed (live config). */
      announce?: () => void;
      log: { info(obj: object, msg: string): void };
    },
  ) {}

  /** Newest first; 404 when the connection neither exists nor has a draft. */
  async list(connectionId: string): Promise<{ versions: VersionView[] }> {
    const versions = await this.deps.versions.list(connectionId);
    if (versions.length === 0) notFound('connection', connectionId);
    return { versions: versions.map(toVersionView) };
  }

  /** One version; 404 when there is no such one. */
  async require(connectionId: string, version: string | number): Promise<ConnectionVersion> {
    const n = typeof version === 'number' ? version : /^[1-9][0-9]{0,8}$/.test(version) ? Number(version) : undefined;
    const found = n === undefined ? undefined : await this.deps.versions.find(connectionId, n);
    if (!found) notFound('connection version', `${connectionId}/${String(version)}`);
    return found;
  }

  /**
   * Drafts a version: the body's settings over the active version's (or, for a connection a
   * setup link is creating, over the defaults, with issuer, client id and method required).
   * Replaces the connection's draft, if any.
   */
  async draft(
    target: { connectionId: string; tenantId: string },
    body: unknown,
    createdBy: VersionAuthor,
  ): Promise<ConnectionVersion> {
    const input = parseInput(draftVersionSchema, body);
    const active = await this.deps.versions.findActive(target.connectionId);
    const { clientSecret, clientSecretExpiresAt, ...changes } = input;
    const base = active?.settings ?? NEW_CONNECTION_DEFAULTS;
    const merged = { ...base, ...changes };
    for (const field of ['issuer', 'clientId', 'tokenEndpointAuthMethod'] as const) {
      if (merged[field] === undefined) throw invalidField(field, 'is required');
    }
    const settings = settingsOf(merged as VersionSettings);
    const method = settings.tokenEndpointAuthMethod;
    // Without a new secret, the one stored last is kept: the draft's being replaced (its holder
    // entered it), else the active version's. private_key_jwt has none.
    const kept = (await this.deps.versions.findDraft(target.connectionId)) ?? active;
    const keepSecret = clientSecret === undefined && method === 'client_secret_post' && kept !== undefined;
    const clientSecretEnc =
      clientSecret !== undefined
        ? this.deps.connectionService.sealSecret(target.connectionId, clientSecret)
        : keepSecret
          ? kept.clientSecretEnc
          : null;
    this.deps.connectionService.assertRules({ ...settings, hasClientSecret: clientSecretEnc !== null });
    this.deps.connectionService.assertSigningKey(method, settings.signingKeyId);
    const expiry = toDate(clientSecretExpiresAt);
    const draft = await this.deps.versions.saveDraft(target.tenantId, target.connectionId, {
      settings,
      clientSecretEnc,
      clientSecretExpiresAt: expiry !== undefined ? expiry : keepSecret ? kept.clientSecretExpiresAt : null,
      createdBy,
    });
    this.deps.log.info(
      { connection: target.connectionId, version: draft.version, by: createdBy },
      'connection version drafted',
    );
    return draft;
  }

  /** POST /admin/connections/:id/versions: a draft by an operator. */
  async draftByAdmin(connectionId: string, body: unknown): Promise<VersionView> {
    const current = await this.deps.connections.findById(connectionId);
    const tenantId = current?.tenantId ?? (await this.deps.versions.list(connectionId))[0]?.tenantId;
    if (tenantId === undefined) notFound('connection', connectionId);
    return toVersionView(await this.draft({ connectionId, tenantId }, body, 'admin'));
  }

  /** POST /admin/connections/:id/versions/:n/activate, `{"force"?: true}`. */
  async activateByAdmin(connectionId: string, version: string, body: unknown): Promise<VersionView> {
    const { force } = parseInput(activateSchema, body ?? {});
    return toVersionView(await this.activate(connectionId, version, { force: force === true, by: 'admin token' }));
  }

  /** The validation report of a version, for operators (admin API, console). */
  async validate(connectionId: string, version: string | number): Promise<ValidationReport> {
    return (await this.validateReports(connectionId, version)).operators;
  }

  /**
   * A version's validation, told to operators and to a setup-link holder (validate-idp.ts). The
   * holder's is kept with the version: only the setup page shows a report again.
   */
  async validateReports(connectionId: string, version: string | number): Promise<ValidationReports> {
    const found = await this.require(connectionId, version);
    const reports = await this.deps.connectionService.validateSettings(found.settings);
    await this.deps.versions.recordValidation(connectionId, found.version, reports.holder);
    return reports;
  }

  /**
   * Activates a version. A draft must have passed a test login (or `force`, admin only); a
   * retired version was active before and may come back at once: that is the rollback. `by`
   * is who did it, as the change log names them: the event connection.activated says so.
   */
  async activate(
    connectionId: string,
    version: string | number,
    options: { force: boolean; by: string },
  ): Promise<ConnectionVersion> {
    const chosen = await this.require(connectionId, version);
    const result = await this.deps.connections.activateVersion(connectionId, chosen.version, !options.force);
    if (result === undefined) notFound('connection version', `${connectionId}/${chosen.version}`);
    if (result === 'not_tested') {
      throw new BrokerError('not_tested', {
        description: `Version ${chosen.version} has no successful test login yet: run one, then activate it.`,
      });
    }
    this.deps.announce?.();
    this.deps.log.info(
      { connection: connectionId, version: chosen.version, by: options.by, forced: options.force },
      'connection version activated',
    );
    // Stored before the activation is answered (an event of its own: the activation committed).
    const tenant = await this.deps.tenants.findById(result.version.tenantId);
    await this.deps.events.emit(async () => ({
      result: undefined,
      events: [
        {
          type: 'connection.activated',
          data: { tenant: tenant?.slug ?? null, connection: connectionId, version: chosen.version, actor: options.by },
        },
      ],
    }));
    return result.version;
  }

  /** A version's settings as a connection, for a test login against it. */
  async asConnection(connectionId: string, version: number): Promise<Connection | undefined> {
    const found = await this.deps.versions.find(connectionId, version);
    if (!found) return undefined;
    const current = await this.deps.connections.findById(connectionId);
    return {
      ...found.settings,
      id: connectionId,
      tenantId: found.tenantId,
      clientSecretEnc: found.clientSecretEnc,
      isDefault: current?.isDefault ?? false,
      enabled: true,
      createdAt: found.createdAt,
      updatedAt: found.createdAt,
      testedVersion: found.version,
    };
  }

  recordTest(connectionId: string, version: number, ok: boolean): Promise<void> {
    return this.deps.versions.recordTest(connectionId, version, ok);
  }
}
