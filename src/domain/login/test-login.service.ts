import { randomToken, sha256Hex } from '../../crypto/tokens.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import { notFound } from '../not-found.js';
import type { LoginTransaction } from './login-transaction.js';
import type { TestLoginRepo } from './test-login.repo.js';
import { redirectUriFor } from '../connections/redirect-uri.js';
import type { LoginCallbackService } from './login-callback.service.js';
import type { BrowserContext, LoginStartService, StartResult } from './login-start.service.js';
import type { StepId } from './pipeline.js';

const TEST_LOGIN_TTL_SECONDS = 600;

export interface Diagnostics {
  connection: string;
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
 */
export class TestLoginService {
  constructor(
    private readonly deps: {
      links: TestLoginRepo;
      start: Pick<LoginStartService, 'begin'>;
      callback: Pick<LoginCallbackService, 'verify'>;
      connections: ConfigCache['connections'];
      tenants: ConfigCache['tenants'];
      publicUrl: string;
      /** PUBLIC_URL/api/sso/callback */
      callbackUrl: string;
    },
  ) {}

  async create(connectionId: string): Promise<{ url: string; expiresAt: string }> {
    const connection = await this.deps.connections.findById(connectionId);
    if (!connection) notFound('connection', connectionId);
    const token = randomToken(32);
    const expiresAt = await this.deps.links.create(sha256Hex(token), connection.id, TEST_LOGIN_TTL_SECONDS);
    return { url: `${this.deps.publicUrl}/api/sso/test-login?token=${token}`, expiresAt: expiresAt.toISOString() };
  }

  /** `GET /api/sso/test-login?token=`: the link works once, within its lifetime. */
  async start(token: unknown, browser: BrowserContext): Promise<StartResult> {
    const connectionId =
      typeof token === 'string' && token.length <= 200 ? await this.deps.links.consume(sha256Hex(token)) : undefined;
    if (connectionId === undefined)
      throw new BrokerError('login_expired', {
        description: 'This test-login link is unknown, expired or already used. Ask for a new one.',
      });
    const connection = await this.deps.connections.findById(connectionId);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId));
    if (!connection || !tenant) throw new BrokerError('no_connection');
    return this.deps.start.begin({ tenant, connection, purpose: { kind: 'test' }, browser });
  }

  /** The callback of a test login: every check, traced; a diagnostics page, never a ticket. */
  async complete(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL): Promise<Diagnostics> {
    const connection = await this.deps.connections.findById(tx.connectionId);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId));
    const diagnostics: Diagnostics = {
      connection: tx.connectionId,
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
    return diagnostics;
  }
}
