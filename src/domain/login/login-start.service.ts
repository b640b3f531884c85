import { z } from 'zod';
import { randomTokens } from '../../crypto/tokens.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import { buildAuthorizationRedirect } from '../../oidc/code-exchange.js';
import type { IdpRegistry } from '../../oidc/idp-registry.js';
import { isTenantAllowed } from '../apps/app.service.js';
import type { Connection } from '../connections/connection.repo.js';
import type { ConnectionService } from '../connections/connection.service.js';
import { redirectUriFor } from '../connections/redirect-uri.js';
import type { ConfigCache } from '../config-cache.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import { parseQuery } from '../validation.js';
import type { AttemptOutcomes } from './attempt-outcomes.js';
import { returnToHash, type LoginTransaction } from './login-transaction.js';
import { emailDomain, pickConnection, resolveTenant } from './resolve-tenant.js';
import { assertReturnToRegistered, withParams } from './return-url.js';
import type { CookieToSet, TransactionCookies } from './transaction-cookies.js';

export interface LoginStartDeps {
  /** Configuration reads go through the cached directory: no database read in the steady state. */
  apps: ConfigCache['apps'];
  tenants: ConfigCache['tenants'];
  connections: ConfigCache['connections'];
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: Pick<IdpRegistry, 'idp'>;
  outcomes: Pick<AttemptOutcomes, 'started' | 'failedToStart'>;
  cookies: Pick<TransactionCookies, 'forNewLogin'>;
  /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is this plus `/<connection id>`. */
  callbackUrl: string;
  tenantDomain: string | undefined;
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

/** Either a redirect to the IdP (with the transaction cookie) or, on IdP trouble, back to the app. */
export type StartResult = { location: string; cookies: CookieToSet[] };

/** The browser's side of a request: its Host header and cookies. */
export interface BrowserContext {
  host: string | undefined;
  cookies: Record<string, string | undefined>;
}

/** Starting a login: SP-initiated (`/api/sso/login`), IdP-initiated (`/api/sso/initiate`), and test logins. */
export class LoginStartService {
  constructor(private readonly deps: LoginStartDeps) {}

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
      await this.deps.outcomes.failedToStart({ tenant, connection, appId: purpose.appId, error: error.code });
      return { location: withParams(input.returnTo, { error: error.code, error_description: error.description, state: purpose.appState }), cookies: [] };
    }
    this.deps.outcomes.started(tenant);
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
}

/** Names the organisation on a learner's error page. */
function withOrganisation(error: unknown, tenant: Tenant): unknown {
  if (isBrokerError(error)) error.organisation ??= tenant.name;
  return error;
}
