import { z } from 'zod';
import { randomTokens } from '../../crypto/tokens.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import { buildAuthorizationRedirect, exchangeCode, fetchUserinfo } from '../../oidc/code-exchange.js';
import { mapIdentity } from '../../oidc/identity.js';
import type { IdpRegistry } from '../../oidc/idp-registry.js';
import type { Metrics } from '../../observability/metrics.js';
import type { LoginAuditService } from '../audit/login-audit.service.js';
import { isTenantAllowed } from '../apps/app.service.js';
import type { ConnectionService } from '../connections/connection.service.js';
import type { Directory } from '../directory.js';
import type { TicketService } from '../tickets/ticket.service.js';
import { assertResponseIssuer } from '../../oidc/response-issuer.js';
import { returnToHash, type AppPurpose, type LoginTransaction } from './login-transaction.js';
import type { Connection } from '../connections/connection.repo.js';
import { redirectUriFor } from '../connections/redirect-uri.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import { assertDomainAllowed } from './domain-restriction.js';
import { emailDomain, pickConnection, resolveTenant } from './resolve-tenant.js';
import { parseQuery } from '../validation.js';
import { assertReturnToRegistered, withParams } from './return-url.js';
import type { CookieToSet, TransactionCookies } from './transaction-cookies.js';

export interface LoginDeps {
  /** Configuration reads go through the cached directory: no database read in the steady state. */
  apps: Directory['apps'];
  tenants: Directory['tenants'];
  connections: Directory['connections'];
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: IdpRegistry;
  tickets: TicketService;
  audit: Pick<LoginAuditService, 'record'>;
  metrics: Pick<Metrics, 'loginsStarted' | 'loginsCompleted' | 'loginsFailed' | 'loginDuration'>;
  cookies: TransactionCookies;
  /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is this plus `/<connection id>`. */
  callbackUrl: string;
  tenantDomain: string | undefined;
  transactionTtlSeconds: number;
  log: { warn(obj: object, msg: string): void };
}

const loginQuerySchema = z.object({
  app: z.string().min(1).max(200),
  return_to: z.string().min(1).max(2048),
  tenant: z.string().min(1).max(63).optional(),
  connection: z.string().min(1).max(200).optional(),
  login_hint: z.string().min(1).max(320).optional(),
  // Echoed back unchanged; control characters would grow sixfold in the sealed cookie (JSON
  // escapes) and have no business in an app's opaque value (RFC 6749's own state is VSCHAR).
  state: z.string().max(512).regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters').optional(),
});

const initiateQuerySchema = z.object({
  iss: z.string().min(1).max(2048),
  target_link_uri: z.string().min(1).max(2048),
  login_hint: z.string().min(1).max(320).optional(),
});

const callbackQuerySchema = z.object({
  state: z.string().min(1).max(200),
});

export type StepId = 'connection' | 'authorization' | 'discovery' | 'response_issuer' | 'token_exchange' | 'userinfo' | 'claims' | 'domain';
export type Trace = (step: { id: StepId; ok: boolean; message: string }) => void;

/** Either a redirect to the IdP (with the transaction cookie) or, on IdP trouble, back to the app. */
export type StartResult = { location: string; cookies: CookieToSet[] };

/** The browser's side of a request: its Host header and cookies. */
export interface BrowserContext {
  host: string | undefined;
  cookies: Record<string, string | undefined>;
}

export class LoginService {
  constructor(private readonly deps: LoginDeps) {}

  /**
   * `GET /api/sso/login`. Steps, in this order because until the app and its return URL are
   * verified an error must be a page, never a redirect:
   * parse → find app → assert return_to registered → resolve tenant → assert app allowed
   * for tenant → pick connection → discover IdP → seal transaction → redirect to the IdP.
   */
  async start(query: unknown, browser: BrowserContext): Promise<StartResult> {
    const q = parseQuery(loginQuerySchema, query);
    const app = await this.deps.apps.findById(q.app);
    if (!app) throw new BrokerError('unknown_app');
    assertReturnToRegistered(app.returnUrls, q.return_to);
    const { tenant, connection: selected } = await resolveTenant(this.deps, {
      connection: q.connection,
      tenant: q.tenant,
      host: browser.host,
      loginHint: q.login_hint,
    });
    if (!isTenantAllowed(app, tenant.id)) throw withOrganisation(new BrokerError('tenant_not_allowed'), tenant);
    const connection = await pickConnection(this.deps, tenant, selected).catch((error: unknown) => {
      throw withOrganisation(error, tenant);
    });

    return this.begin({
      tenant,
      connection,
      purpose: { kind: 'app', appId: app.id, returnToHash: returnToHash(q.return_to), appState: q.state },
      returnTo: q.return_to,
      loginHint: q.login_hint,
      browser,
    });
  }

  /**
   * Seals a new login transaction and sends the browser to the connection's IdP, at the
   * connection's own redirect URI. Without an app (a test login), IdP trouble is an error
   * page; with one, the learner goes back to it.
   */
  async begin(input: {
    tenant: Tenant;
    connection: Connection;
    purpose: LoginTransaction['purpose'];
    /** The app's return URL (already checked against its registered ones), for app logins. */
    returnTo?: string;
    loginHint?: string | undefined;
    browser: BrowserContext;
  }): Promise<StartResult> {
    const { tenant, connection, purpose } = input;
    // OpenID Connect Core §3.1.2.1 / RFC 7636 §4.1: 256 bits each from the CSPRNG (one call).
    const [state, nonce, codeVerifier] = randomTokens(3) as [string, string, string];
    const tx: LoginTransaction = { state, nonce, codeVerifier, connectionId: connection.id, createdAt: Date.now(), purpose };
    let authorizationUrl: URL;
    try {
      const idp = await this.deps.idps.idp(this.deps.connectionService.toIdpConnection(connection));
      authorizationUrl = buildAuthorizationRedirect(idp, {
        redirectUri: redirectUriFor(this.deps.callbackUrl, connection.id),
        scopes: connection.scopes,
        checks: tx,
        loginHint: input.loginHint,
      });
    } catch (error) {
      if (!isBrokerError(error) || !error.allowRedirect || purpose.kind !== 'app' || input.returnTo === undefined) throw withOrganisation(error, tenant);
      // The reason line only: openid-client errors can carry upstream bodies and tokens as causes.
      this.deps.log.warn({ code: error.code, reason: error.message, connection: connection.id }, 'login could not reach the IdP');
      this.deps.metrics.loginsFailed.inc({ tenant: tenant.slug, reason: error.code });
      await this.deps.audit.record({ tenantId: tenant.id, connectionId: connection.id, appId: purpose.appId, outcome: 'failure', error: error.code, durationMs: 0 });
      return { location: withParams(input.returnTo, { error: error.code, error_description: error.description, state: purpose.appState }), cookies: [] };
    }
    this.deps.metrics.loginsStarted.inc({ tenant: tenant.slug });
    return { location: authorizationUrl.href, cookies: this.deps.cookies.forNewLogin(tx, input.browser.host, input.browser.cookies) };
  }

  /**
   * `GET /api/sso/initiate` — third-party-initiated login (OpenID Connect Core §4): the IdP
   * names itself (`iss`) and where the learner wants to go (`target_link_uri`). The broker
   * trusts neither: it finds an enabled connection with that issuer and an app that
   * registered `target_link_uri` and is allowed for that connection's tenant, then starts an
   * ordinary SP-initiated login, so state, nonce and PKCE bind the result to this browser.
   */
  async initiate(query: unknown, browser: BrowserContext): Promise<StartResult> {
    const q = parseQuery(initiateQuerySchema, query);
    const connections = await this.deps.connections.listEnabledByIssuer(q.iss);
    if (connections.length === 0) throw new BrokerError('unknown_tenant', { description: 'No sign-in connection matches this identity provider.' });
    const apps = await this.deps.apps.listByReturnUrl(q.target_link_uri);
    if (apps.length === 0) throw new BrokerError('invalid_return_to');
    let pairs = connections.flatMap((connection) => apps.filter((app) => isTenantAllowed(app, connection.tenantId)).map((app) => ({ connection, app })));
    if (pairs.length === 0) throw new BrokerError('tenant_not_allowed');
    // Several tenants share an issuer (Google, a multi-tenant Entra app): the login hint's domain decides.
    const hintDomain = emailDomain(q.login_hint);
    if (pairs.length > 1 && hintDomain) {
      const byDomain = await this.deps.tenants.findByDomain(hintDomain);
      pairs = pairs.filter((pair) => pair.connection.tenantId === byDomain?.id);
    }
    const [pair, ...others] = pairs;
    if (!pair || others.some((other) => other.connection.tenantId !== pair.connection.tenantId || other.app.id !== pair.app.id)) {
      throw new BrokerError('invalid_request', { description: 'This sign-in link matches several organisations or applications; start from the application instead.' });
    }
    return this.start(
      { app: pair.app.id, return_to: q.target_link_uri, connection: pair.connection.id, ...(q.login_hint && { login_hint: q.login_hint }) },
      browser,
    );
  }

  /** Finds the browser's transaction for a callback; a page (400) when there is none. */
  openTransaction(query: unknown, browser: BrowserContext): LoginTransaction {
    const parsed = callbackQuerySchema.safeParse(query);
    if (!parsed.success) throw new BrokerError('invalid_state', { description: 'The sign-in response has no state.' });
    const tx = this.deps.cookies.find(parsed.data.state, browser.host, browser.cookies);
    if (!tx) throw new BrokerError('invalid_state');
    if (Date.now() - tx.createdAt > this.deps.transactionTtlSeconds * 1000) {
      void this.#record(tx, 'login_expired');
      throw new BrokerError('login_expired');
    }
    return tx;
  }

  /** Clears a transaction's cookie: one try per transaction, whatever the outcome. */
  finishedCookie(tx: LoginTransaction, host: string | undefined): CookieToSet {
    return this.deps.cookies.finished(tx.state, host);
  }

  /**
   * Contract v2, mix-up defence (RFC 9700 §4.4.2): a transaction finishes only on the redirect
   * URI of the connection it was sent to. A code arriving on another connection's callback
   * was issued by another IdP than the one this login trusts; it must never reach the token
   * endpoint of the transaction's connection (which may belong to a hostile tenant). Refused
   * before any request to an IdP, with a page: nothing is redirected anywhere.
   */
  assertCallbackConnection(tx: LoginTransaction, callbackConnection: string): void {
    if (callbackConnection === tx.connectionId) return;
    void this.#record(tx, 'callback_mismatch');
    throw new BrokerError('callback_mismatch', {
      logMessage: `a transaction for connection ${tx.connectionId} came back on the redirect URI of ${JSON.stringify(callbackConnection.slice(0, 100))}`,
    });
  }

  /** The connection's redirect URI with the callback's query, as openid-client validates it. */
  callbackUrlOf(tx: LoginTransaction, rawUrl: string): URL {
    const queryAt = rawUrl.indexOf('?');
    return new URL(redirectUriFor(this.deps.callbackUrl, tx.connectionId) + (queryAt === -1 ? '' : rawUrl.slice(queryAt)));
  }

  /**
   * `GET /api/sso/callback/{connection}` of an app login, once the transaction is known and
   * belongs to this connection: IdP error → response issuer → code exchange (PKCE, client
   * auth) → ID token checks → identity → ticket. Returns where to send the browser: the
   * app's registered return URL with either `ticket` or `error`.
   */
  async complete(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL): Promise<string> {
    if (tx.purpose.kind !== 'app') throw new Error('unreachable: a test login completes through TestLoginService');
    const purpose = tx.purpose;
    const returnTo = await this.#returnTo(tx, purpose);
    const back = (params: Record<string, string>) => withParams(returnTo, { ...params, state: purpose.appState });
    try {
      const ticket = await this.#completeOrThrow(tx, purpose, query, callbackUrl);
      return back({ ticket });
    } catch (error) {
      await this.#record(tx, isBrokerError(error) ? error.code : 'internal_error');
      if (isBrokerError(error) && error.allowRedirect) {
        this.deps.log.warn({ code: error.code, reason: error.message, connection: tx.connectionId }, 'login failed');
        return back({ error: error.code, error_description: error.description });
      }
      throw error;
    }
  }

  /**
   * The return URL the login was started with, found again among the app's registered ones
   * (the transaction keeps only its hash). An app deleted, or a URL unregistered, during the
   * login: a page, never a redirect.
   */
  async #returnTo(tx: LoginTransaction, purpose: AppPurpose): Promise<string> {
    const app = await this.deps.apps.findById(purpose.appId);
    const returnTo = app?.returnUrls.find((url) => returnToHash(url) === purpose.returnToHash);
    if (returnTo === undefined) {
      await this.#record(tx, 'invalid_return_to');
      throw new BrokerError('invalid_return_to', { description: 'The application no longer accepts this return address.' });
    }
    return returnTo;
  }

  /** The metrics of a finished login attempt. */
  #count(tx: LoginTransaction, tenantSlug: string, error: string | null): void {
    const { metrics } = this.deps;
    if (error === null) metrics.loginsCompleted.inc({ tenant: tenantSlug });
    else metrics.loginsFailed.inc({ tenant: tenantSlug, reason: error });
    metrics.loginDuration.observe({ outcome: error === null ? 'success' : 'failure' }, (Date.now() - tx.createdAt) / 1000);
  }

  /**
   * Metrics and the audit row of a failed attempt (a successful one's audit row is written
   * with its ticket); never tokens, codes or claims. The tenant is the connection's.
   */
  async #record(tx: LoginTransaction, error: string): Promise<void> {
    const connection = await this.deps.connections.findById(tx.connectionId).catch(() => undefined);
    const tenant = connection && (await this.deps.tenants.findById(connection.tenantId).catch(() => undefined));
    this.#count(tx, tenant?.slug ?? 'unknown', error);
    if (!tenant) return;
    return this.deps.audit.record({
      tenantId: tenant.id,
      connectionId: tx.connectionId,
      appId: tx.purpose.kind === 'app' ? tx.purpose.appId : null,
      outcome: 'failure',
      error,
      durationMs: Date.now() - tx.createdAt,
    });
  }

  /**
   * Every check of a completed login, in order; `trace` (test logins) hears each step's
   * outcome. Throws the first failure as a BrokerError.
   */
  async verify(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL, trace?: Trace) {
    // Descriptions are built only for a trace (test logins): real logins do not pay for them.
    const step = async <T>(id: StepId, run: () => Promise<T> | T, describe: (value: T) => string): Promise<T> => {
      try {
        const value = await run();
        trace?.({ id, ok: true, message: describe(value) });
        return value;
      } catch (error) {
        trace?.({ id, ok: false, message: isBrokerError(error) ? `${error.code}: ${error.message}` : String(error) });
        throw error;
      }
    };
    const { connection, tenant } = await step(
      'connection',
      async () => {
        const connection = await this.deps.connections.findById(tx.connectionId);
        const tenant = connection && (await this.deps.tenants.findById(connection.tenantId));
        if (!connection || !tenant || !connection.enabled) {
          throw new BrokerError('idp_error', { description: 'The sign-in connection was removed or disabled during the sign-in.' });
        }
        return { connection, tenant };
      },
      ({ connection }) => `connection ${connection.id} (${connection.tokenEndpointAuthMethod})`,
    );
    const idp = await step('discovery', () => this.deps.idps.idp(this.deps.connectionService.toIdpConnection(connection)), (found) => `issuer ${found.configuration.serverMetadata().issuer}`);
    // RFC 9207 §2.4: error responses too, so a mix-up cannot even forge an IdP's refusal.
    await step('response_issuer', () => assertResponseIssuer(idp, callbackUrl.searchParams), (message) => message);
    await step('authorization', () => {
      if (query.error !== undefined) throw idpReportedError(query.error);
      if (typeof query.code !== 'string') throw new BrokerError('idp_error', { description: 'The identity provider sent no code.' });
    }, () => `the IdP redirected to this connection's redirect URI ${redirectUriFor(this.deps.callbackUrl, connection.id)} with a code`);
    const result = await step(
      'token_exchange',
      () => exchangeCode(idp, callbackUrl, redirectUriFor(this.deps.callbackUrl, connection.id), tx),
      (r) => `ID token signed RS256 and valid: iss ${r.claims.iss}, aud ${JSON.stringify(r.claims.aud)}${r.claims.azp === undefined ? '' : `, azp ${r.claims.azp}`}, nonce matches, exp/iat within ${idp.clockToleranceSeconds} s`,
    );
    let claims: Record<string, unknown> = result.claims;
    // Userinfo when the connection asks for it, or to find the email an ID token lacks (Entra
    // ID without the optional claim, Keycloak's defaults). Its `sub` must match either way; an
    // unreachable userinfo fails the login only when the connection asked for it.
    const lacksEmail = typeof result.claims.email !== 'string' && idp.hasUserinfo;
    if (connection.fetchUserinfo || lacksEmail) {
      const userinfo = await step(
        'userinfo',
        () =>
          fetchUserinfo(idp, result.accessToken, result.claims.sub).catch((error: unknown) => {
            if (connection.fetchUserinfo || (isBrokerError(error) && error.code === 'invalid_id_token')) throw error;
            this.deps.log.warn({ connection: connection.id, reason: isBrokerError(error) ? error.message : String(error) }, 'userinfo unavailable; the ID token alone names the user');
            return undefined;
          }),
        (found) => (found ? `userinfo fetched (${connection.fetchUserinfo ? 'the connection asks for it' : 'the ID token has no email'}); its sub matches` : 'userinfo unavailable; the ID token alone names the user'),
      );
      // The ID token's claims win over userinfo's.
      if (userinfo) claims = { ...userinfo, ...result.claims };
    }
    const rules = { subjectClaim: connection.subjectClaim, assumeEmailVerified: connection.assumeEmailVerified, claimMapping: connection.claimMapping };
    const identity = await step('claims', () => mapIdentity(claims, rules), (id) => `user id (${connection.subjectClaim}) ${id.subject}; login ${id.login}`);
    await step('domain', () => assertDomainAllowed(tenant, identity, claims), (message) => message);
    return { connection, tenant, result, identity };
  }

  async #completeOrThrow(tx: LoginTransaction, purpose: AppPurpose, query: Record<string, unknown>, callbackUrl: URL): Promise<string> {
    const { connection, tenant, result, identity } = await this.verify(tx, query, callbackUrl);
    const ticket = await this.deps.tickets.mint({
      transactionId: tx.state,
      appId: purpose.appId,
      tenantId: tenant.id,
      connectionId: connection.id,
      identity: {
        tenant: tenant.slug,
        connection: connection.id,
        issuer: result.claims.iss,
        ...identity,
        claims: result.claims,
        authenticatedAt: new Date().toISOString(),
      },
      idToken: result.idToken,
      durationMs: Date.now() - tx.createdAt,
    });
    // The same state already minted a ticket: a replayed callback gets nothing.
    if (ticket === undefined) throw new BrokerError('login_expired', { description: 'This sign-in was already completed.' });
    this.#count(tx, tenant.slug, null);
    return ticket;
  }
}

/** Names the organisation on a learner's error page. */
function withOrganisation(error: unknown, tenant: Tenant): unknown {
  if (isBrokerError(error)) error.organisation ??= tenant.name;
  return error;
}

function idpReportedError(error: unknown): BrokerError {
  if (error === 'access_denied') return new BrokerError('access_denied');
  const code = typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? error : 'unknown';
  return new BrokerError('idp_error', { description: `The identity provider returned an error (${code}).` });
}
