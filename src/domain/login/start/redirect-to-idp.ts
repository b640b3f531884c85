import { randomTokens } from '../../../crypto/tokens.js';
import { isBrokerError } from '../../../errors/broker-error.js';
import { buildAuthorizationRedirect } from '../../../oidc/code-exchange.js';
import type { IdpRegistry } from '../../../oidc/idp-registry.js';
import type { Connection } from '../../connections/connection.repo.js';
import type { ConnectionService } from '../../connections/connection.service.js';
import { redirectUriFor } from '../../connections/redirect-uri.js';
import type { Tenant } from '../../tenants/tenant.repo.js';
import type { AttemptOutcomes } from '../attempt-outcomes.js';
import { acrHash, settingsFingerprint, type LoginTransaction } from '../login-transaction.js';
import { withParams } from '../return-url.js';
import type { CookieToSet, TransactionCookies } from '../transaction-cookies.js';
import { mergeAcrValues, type StepUp } from './step-up.js';
import { withOrganisation } from './with-organisation.js';

/** Either a redirect to the IdP (with the transaction cookie) or, on IdP trouble, back to the app. */
export type StartResult = { location: string; cookies: CookieToSet[] };

/** The browser's side of a request: its Host header and cookies. */
export interface BrowserContext {
  host: string | undefined;
  cookies: Record<string, string | undefined>;
  /** The request's id (on the learner's error page, in the log, in the login audit). */
  requestId?: string | undefined;
}

export interface RedirectToIdpDeps {
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: Pick<IdpRegistry, 'idp'>;
  outcomes: Pick<AttemptOutcomes, 'started' | 'failedToStart'>;
  cookies: Pick<TransactionCookies, 'forNewLogin'>;
  /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is this plus `/<connection id>`. */
  callbackUrl: string;
  log: { warn(obj: object, msg: string): void };
}

export interface LoginToStart {
  tenant: Tenant;
  connection: Connection;
  purpose: LoginTransaction['purpose'];
  /** The app's return URL (already checked against its registered ones), for app logins. */
  returnTo?: string;
  loginHint?: string | undefined;
  /** What the app asks of the sign-in itself (contract v4); the connection may add ACR values. */
  stepUp?: StepUp | undefined;
  browser: BrowserContext;
}

/**
 * Guarantees: fresh state, nonce and PKCE verifier (OpenID Connect Core §3.1.2.1, RFC 7636
 * §4.1: 256 bits each from the CSPRNG), sealed into this browser's transaction cookie, and an
 * authorization request to the connection's IdP at the connection's own redirect URI.
 * When the IdP cannot be reached, an app login goes back to the app with the error; a test
 * login (no app) gets an error page.
 */
export async function redirectToIdp(deps: RedirectToIdpDeps, login: LoginToStart): Promise<StartResult> {
  const { tenant, connection, purpose, returnTo } = login;
  const [state, nonce, codeVerifier] = randomTokens(3) as [string, string, string];
  const acrValues = mergeAcrValues(login.stepUp?.acrValues, connection.acrValues);
  const tx: LoginTransaction = {
    state,
    nonce,
    codeVerifier,
    connectionId: connection.id,
    settings: settingsFingerprint(connection),
    createdAt: Date.now(),
    purpose,
    demands: {
      ...(acrValues && { acrHashes: acrValues.map(acrHash) }),
      ...(login.stepUp?.maxAge !== undefined && { maxAge: login.stepUp.maxAge }),
      ...(login.stepUp?.prompt === 'login' && { promptLogin: true }),
    },
  };
  let authorizationUrl: URL;
  try {
    const idp = await deps.idps.idp(deps.connectionService.toIdpConnection(connection));
    authorizationUrl = buildAuthorizationRedirect(idp, {
      redirectUri: redirectUriFor(deps.callbackUrl, connection.id),
      scopes: connection.scopes,
      checks: tx,
      loginHint: login.loginHint,
      acrValues,
      maxAge: login.stepUp?.maxAge,
      prompt: login.stepUp?.prompt,
    });
  } catch (error) {
    const backToApp = isBrokerError(error) && error.allowRedirect && purpose.kind === 'app' && returnTo !== undefined;
    if (!backToApp) throw withOrganisation(error, tenant);
    // The reason line only: openid-client errors can carry upstream bodies and tokens as causes.
    deps.log.warn(
      { code: error.code, reason: error.message, connection: connection.id },
      'login could not reach the IdP',
    );
    await deps.outcomes.failedToStart({
      tenant,
      connection,
      appId: purpose.appId,
      error: error.code,
      requestId: login.browser.requestId,
    });
    const params = { error: error.code, error_description: error.description, state: purpose.appState };
    return { location: withParams(returnTo, params), cookies: [] };
  }
  deps.outcomes.started(tenant);
  return {
    location: authorizationUrl.href,
    cookies: deps.cookies.forNewLogin(tx, login.browser.host, login.browser.cookies),
  };
}
