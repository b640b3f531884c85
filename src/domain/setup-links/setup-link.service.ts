import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { randomToken, sha256Hex } from '../../crypto/tokens.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { ValidationReport } from '../../oidc/validate-idp.js';
import type { ConnectionVersion, ConnectionVersionRepo } from '../connections/connection-version.repo.js';
import type { ConnectionVersionService } from '../connections/connection-version.service.js';
import type { ConnectionRepo } from '../connections/connection.repo.js';
import type { ChangeLog } from '../changes/change-log.service.js';
import type { TestLoginService } from '../login/test-login.service.js';
import type { BrowserContext, StartResult } from '../login/login-start.service.js';
import { notFound } from '../not-found.js';
import type { Tenant, TenantRepo } from '../tenants/tenant.repo.js';
import { parseInput } from '../validation.js';
import type { SetupChoice, SetupContext } from './setup-context.js';
import type { SetupLink, SetupLinkRepo } from './setup-link.repo.js';

export const createSetupLinkSchema = z.strictObject({
  connection: z.string().uuid().optional(),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(168),
  note: z.string().max(500).optional(),
});

/** 256 bits, base64url: the only shape a setup token has. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface SetupLinkView {
  id: string;
  connection: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  revokedAt?: string;
  note?: string;
}

function toView(link: SetupLink): SetupLinkView {
  return {
    id: link.id,
    connection: link.connectionId,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
    ...(link.usedAt && { usedAt: link.usedAt.toISOString() }),
    ...(link.revokedAt && { revokedAt: link.revokedAt.toISOString() }),
    ...(link.note !== null && { note: link.note }),
  };
}

export type { SetupChoice, SetupContext } from './setup-context.js';

/**
 * Setup links (contract v3): a bearer link for one tenant's connection, with which its IdP
 * engineer drafts, validates, test-signs-in and activates a version alone. The token is shown
 * once and stored as its SHA-256; whoever holds it reaches that one connection and nothing
 * else, and never sees a stored secret. Every action is logged with the link's id (never its
 * token) and recorded on the version (`createdBy: "setup-link"`).
 *
 * CONSOLE_TENANT is the exception: its users may sign in to the console, so its connections
 * change through the admin API only. No link is made for it, and a link made before it became
 * the console's tenant opens to a refusal (`console_tenant`, 409) and changes nothing.
 */
export class SetupLinkService {
  constructor(
    private readonly deps: {
      links: SetupLinkRepo;
      tenants: Pick<TenantRepo, 'findBySlug' | 'findById'>;
      connections: Pick<ConnectionRepo, 'findById'>;
      versionRepo: Pick<ConnectionVersionRepo, 'list'>;
      versions: Pick<ConnectionVersionService, 'draft' | 'validateReports' | 'activate'>;
      testLogin: Pick<TestLoginService, 'startHere'>;
      changes: Pick<ChangeLog, 'record'>;
      /** CONSOLE_TENANT: no setup link changes its connections. */
      consoleTenant: string | undefined;
      publicUrl: string;
      log: { info(obj: object, msg: string): void };
    },
  ) {}

  // ---- operators ---------------------------------------------------------------------------

  async create(
    tenantSlug: string,
    body: unknown,
  ): Promise<{ id: string; url: string; expiresAt: string; connection: string }> {
    const tenant = await this.#requireTenant(tenantSlug);
    this.#assertNotConsoleTenant(tenant);
    const input = parseInput(createSetupLinkSchema, body ?? {});
    let connectionId = input.connection;
    if (connectionId !== undefined) {
      const owner =
        (await this.deps.connections.findById(connectionId))?.tenantId ??
        (await this.deps.versionRepo.list(connectionId))[0]?.tenantId;
      // Another tenant's connection is as unknown here as a connection that does not exist.
      if (owner !== tenant.id) notFound('connection', connectionId);
    }
    // Without a connection, the link makes a new one: its id (and so its redirect URI) is fixed now.
    connectionId ??= randomUUID();
    const token = randomToken(32);
    const link = await this.deps.links.create({
      id: randomUUID(),
      tenantId: tenant.id,
      connectionId,
      tokenHash: sha256Hex(token),
      note: input.note ?? null,
      expiresAt: new Date(Date.now() + input.expiresInHours * 3_600_000),
    });
    this.deps.log.info({ setupLink: link.id, tenant: tenant.slug, connection: connectionId }, 'setup link created');
    return {
      id: link.id,
      url: `${this.deps.publicUrl}/setup/${token}`,
      expiresAt: link.expiresAt.toISOString(),
      connection: connectionId,
    };
  }

  async list(tenantSlug: string): Promise<{ links: SetupLinkView[] }> {
    const tenant = await this.#requireTenant(tenantSlug);
    return { links: (await this.deps.links.listByTenant(tenant.id)).map(toView) };
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.deps.links.revoke(id))) notFound('setup link', id);
    this.deps.log.info({ setupLink: id }, 'setup link revoked');
  }

  // ---- the link's holder -------------------------------------------------------------------

  /** The link's context, or 404 `invalid_setup_link` for an unknown, expired or revoked token. */
  async open(token: string): Promise<SetupContext> {
    const link = TOKEN.test(token) ? await this.deps.links.findUsable(sha256Hex(token)) : undefined;
    const tenant = link && (await this.deps.tenants.findById(link.tenantId));
    if (!link || !tenant) throw new BrokerError('invalid_setup_link');
    // Before anything else: the page, its saves, test sign-ins and activations all stop here.
    this.#assertNotConsoleTenant(tenant, link);
    if (link.usedAt === null) {
      await this.deps.links.markUsed(link.id);
      this.#log(link, 'opened');
    }
    const versions = await this.deps.versionRepo.list(link.connectionId);
    const chosen = link.idpProduct !== null ? link : await this.deps.links.lastChoice(link.tenantId, link.connectionId);
    return {
      link,
      tenant,
      connectionId: link.connectionId,
      active: versions.find((v) => v.status === 'active'),
      draft: versions.find((v) => v.status === 'draft'),
      choice: { idpProduct: chosen?.idpProduct ?? undefined, authMethod: chosen?.authMethod ?? undefined },
    };
  }

  /** Keeps step 1 on the link: the page shows it on every reload, after activation, another day. */
  async choose(context: SetupContext, choice: SetupChoice): Promise<void> {
    const { idpProduct = context.link.idpProduct, authMethod = context.link.authMethod } = choice;
    if (idpProduct === context.link.idpProduct && authMethod === context.link.authMethod) return;
    await this.deps.links.saveChoice(context.link.id, { idpProduct, authMethod });
    this.#log(context.link, 'chose', { idpProduct, authMethod });
  }

  /**
   * Saves the holder's settings as the connection's draft, and its validation report — the
   * holder's: whether the IdP's URLs are allowed and answered, never where names resolve nor
   * how a connection failed (validate-idp.ts).
   */
  async saveDraft(
    context: SetupContext,
    body: Record<string, unknown>,
    address: string,
  ): Promise<{ draft: ConnectionVersion; report: ValidationReport }> {
    const target = { connectionId: context.connectionId, tenantId: context.tenant.id };
    const draft = await this.deps.versions.draft(target, body, 'setup-link');
    this.#log(context.link, 'draft saved', { version: draft.version });
    const fields = Object.keys(body).filter((key) => body[key] !== undefined && body[key] !== null);
    await this.#recordChange(context, draft.version, 'create', fields.sort(), address);
    const { holder: report } = await this.deps.versions.validateReports(context.connectionId, draft.version);
    return { draft, report };
  }

  /**
   * A test login of the draft (or, with none, of the active version), started in the holder's
   * own browser: no URL exists that another browser could open. `backTo` is the setup page the
   * diagnostics lead back to (sealed in that browser's transaction cookie, like the rest).
   */
  async testLogin(context: SetupContext, browser: BrowserContext, backTo?: string): Promise<StartResult> {
    const tested = context.draft ?? context.active;
    if (!tested) {
      throw new BrokerError('invalid_request', { description: 'Save your IdP settings first (step 3).' });
    }
    const started = await this.deps.testLogin.startHere(context.connectionId, tested.version, browser, backTo);
    this.#log(context.link, 'test run', { version: tested.version });
    return started;
  }

  /** Activates the draft, which must have passed a test login. */
  async activate(context: SetupContext, address: string): Promise<ConnectionVersion> {
    if (!context.draft) throw new BrokerError('invalid_request', { description: 'There is no draft to activate.' });
    const activated = await this.deps.versions.activate(context.connectionId, context.draft.version, {
      force: false,
      by: `setup-link:${context.link.id}`,
    });
    this.#log(context.link, 'activated', { version: activated.version });
    await this.#recordChange(context, activated.version, 'activate', [], address);
    return activated;
  }

  /** The admin audit trail names the link as the actor (never its token). */
  #recordChange(context: SetupContext, version: number, action: string, fields: string[], address: string) {
    return this.deps.changes.record({
      actor: `setup-link:${context.link.id}`,
      resource: 'connection-version',
      id: `${context.connectionId}/${version}`,
      action,
      fields,
      address,
    });
  }

  #log(link: SetupLink, action: string, extra: object = {}): void {
    this.deps.log.info(
      { setupLink: link.id, tenantId: link.tenantId, connection: link.connectionId, action, ...extra },
      `setup link: ${action}`,
    );
  }

  /** 409 `console_tenant` for CONSOLE_TENANT (the holder's refusals are logged with the link's id). */
  #assertNotConsoleTenant(tenant: Tenant, link?: SetupLink): void {
    if (this.deps.consoleTenant === undefined || tenant.slug !== this.deps.consoleTenant) return;
    if (link) this.#log(link, 'refused (CONSOLE_TENANT)');
    throw new BrokerError('console_tenant', {
      description: link
        ? 'This setup link cannot change this organisation’s sign-in any more: its users sign in to the broker’s ' +
          'console, so only the broker’s operators change its connections.'
        : `Tenant ${tenant.slug} is CONSOLE_TENANT: its connections change through the admin API only, never ` +
          'through a setup link.',
    });
  }

  async #requireTenant(slug: string): Promise<Tenant> {
    const tenant = await this.deps.tenants.findBySlug(slug);
    if (!tenant) notFound('tenant', slug);
    return tenant;
  }
}
