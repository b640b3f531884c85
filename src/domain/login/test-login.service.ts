import { randomToken, sha256Hex } from '../../crypto/tokens.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import type { ConnectionVersionService } from '../connections/connection-version.service.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import { notFound } from '../not-found.js';
import type { LoginTransaction } from './login-transaction.js';
import type { TestLoginRepo } from './test-login.repo.js';
import { redirectUriFor } from '../connections/redirect-uri.js';
import type { LoginCallbackService } from './login-callback.service.js';
import type { BrowserContext, LoginStartService, StartResult } from './login-start.service.js';
import type { StepId } from './pipeline.js';

const TEST_LOGIN_TTL_SECONDS = 600;

const isBackslashOrControl = (c: string) => c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

/**
 * A page of this broker (a path, never another origin): where a test's diagnostics may lead back.
 * No backslash and no control character: browsers read `\` as `/` and drop tab, CR and LF from a
 * URL, so `/\t/evil.example` would lead to another origin.
 */
export const isBrokerPath = (path: string) =>
  path.startsWith('/') && !path.startsWith('//') && ![...path].some(isBackslashOrControl);

export interface Diagnostics {
  connection: string;
  /** The version tested, when the test named one. */
  version?: number;
  tenant: string;
  /** The connection's own redirect URI, the one the IdP must have registered. */
  redirectUri: string;
  ok: boolean;
  steps: { id: StepId; ok: boolean; message: string }[];
  /** The validated ID-token claims (never the token itself). */
  claims?: Record<string, unknown>;
  identity?: Record<string, unknown>;
}

/**
 * Test login (contract: POST /admin/connections/:id/test-login): a one-time URL that runs a
 * real login against one connection, with no relying app, and ends on a page listing every
 * step the broker checked — the IdP engineer's validation checklist, ticked by the broker.
 * The admin API's URL is the admin's own (single use, ten minutes); setup links and the
 * console start the test in the asking browser instead (startHere), with no URL at all.
 */
export class TestLoginService {
  constructor(
    private readonly deps: {
      links: TestLoginRepo;
      start: Pick<LoginStartService, 'begin'>;
      callback: Pick<LoginCallbackService, 'verify'>;
      connections: ConfigCache['connections'];
      tenants: ConfigCache['tenants'];
      versions: Pick<ConnectionVersionService, 'require' | 'asConnection' | 'recordTest'>;
      versionRepo: { findActive(connectionId: string): Promise<{ version: number } | undefined> };
      publicUrl: string;
      /** PUBLIC_URL/api/sso/callback */
      callbackUrl: string;
    },
  ) {}

  /**
   * A link testing one version of a connection: `version` (a draft, say), else the active one.
   * Its outcome is recorded on that version (activating a draft needs a successful one).
   */
  async create(connectionId: string, version?: string | number): Promise<{ url: string; expiresAt: string }> {
    const tested =
      version === undefined
        ? await this.deps.versionRepo.findActive(connectionId)
        : await this.deps.versions.require(connectionId, version);
    if (!tested) notFound('connection', connectionId);
    const token = randomToken(32);
    const expiresAt = await this.deps.links.create(
      sha256Hex(token),
      connectionId,
      tested.version,
      TEST_LOGIN_TTL_SECONDS,
    );
    return { url: `${this.deps.publicUrl}/api/sso/test-login?token=${token}`, expiresAt: expiresAt.toISOString() };
  }

  /** `GET /api/sso/test-login?token=`: the link works once, within its lifetime. */
  async start(token: unknown, browser: BrowserContext): Promise<StartResult> {
    const link =
      typeof token === 'string' && token.length <= 200 ? await this.deps.links.consume(sha256Hex(token)) : undefined;
    if (link === undefined)
      throw new BrokerError('login_expired', {
        description: 'This test-login link is unknown, expired or already used. Ask for a new one.',
      });
    return this.#begin(link.connectionId, link.version, browser);
  }

  /**
   * A test login started in the browser that asked for it (a setup link's or the console's
   * form): straight to the IdP with this browser's transaction cookie, no link in between;
   * `backTo`, a page of this broker the diagnostics lead back to (the asking page).
   * Nothing can be handed to another browser: the IdP's answer finishes only where the
   * cookie is, so a setup-link holder cannot lure anyone else through a draft's IdP.
   */
  async startHere(
    connectionId: string,
    version: string | number,
    browser: BrowserContext,
    backTo?: string,
  ): Promise<StartResult> {
    const tested = await this.deps.versions.require(connectionId, version);
    return this.#begin(connectionId, tested.version, browser, backTo);
  }

  async #begin(
    connectionId: string,
    version: number | null,
    browser: BrowserContext,
    backTo?: string,
  ): Promise<StartResult> {
    const connection =
      version === null
        ? await this.deps.connections.findById(connectionId)
        : await this.deps.versions.asConnection(connectionId, version);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId));
    if (!connection || !tenant) throw new BrokerError('no_connection');
    const purpose = {
      kind: 'test' as const,
      ...(version !== null && { version }),
      ...(backTo !== undefined && isBrokerPath(backTo) && { backTo }),
    };
    return this.deps.start.begin({ tenant, connection, purpose, browser });
  }

  /** The callback of a test login: every check, traced; a diagnostics page, never a ticket. */
  async complete(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL): Promise<Diagnostics> {
    const version = tx.purpose.kind === 'test' ? tx.purpose.version : undefined;
    const connection =
      version === undefined
        ? await this.deps.connections.findById(tx.connectionId)
        : await this.deps.versions.asConnection(tx.connectionId, version);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId));
    const diagnostics: Diagnostics = {
      connection: tx.connectionId,
      ...(version !== undefined && { version }),
      tenant: tenant?.slug ?? '(deleted)',
      redirectUri: redirectUriFor(this.deps.callbackUrl, tx.connectionId),
      ok: false,
      steps: [],
    };
    try {
      const { result, identity } = await this.deps.callback.verify(tx, query, callbackUrl, (step) =>
        diagnostics.steps.push(step),
      );
      diagnostics.ok = true;
      diagnostics.claims = result.claims;
      diagnostics.identity = { ...identity };
    } catch (error) {
      if (!isBrokerError(error)) throw error;
    }
    if (version !== undefined) await this.deps.versions.recordTest(tx.connectionId, version, diagnostics.ok);
    return diagnostics;
  }
}
