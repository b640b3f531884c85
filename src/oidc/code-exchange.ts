import { createHash } from 'node:crypto';
import * as jose from 'jose';
import * as client from 'openid-client';
import { BrokerError } from '../errors/broker-error.js';
import type { Idp } from './idp-registry.js';
import { verifyIdTokenSignature } from './id-token-signature.js';
import { translateTokenError, translateUserinfoError } from './translate-error.js';

export interface LoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface ExchangeResult {
  claims: client.IDToken;
  idToken: string;
  accessToken: string;
}

/** The authorization request's parameters (OpenID Connect Core §3.1.2.1, RFC 7636 §4.3). */
export function buildAuthorizationRedirect(
  idp: Pick<Idp, 'configuration'>,
  params: { redirectUri: string; scopes: readonly string[]; checks: LoginChecks; loginHint?: string | undefined },
): URL {
  const search: Record<string, string> = {
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope: ['openid', 'email', 'profile', ...params.scopes.filter((s) => !['openid', 'email', 'profile'].includes(s))].join(' '),
    state: params.checks.state,
    nonce: params.checks.nonce,
    // RFC 7636 §4.2, S256: synchronous node:crypto rather than a WebCrypto job per login.
    code_challenge: createHash('sha256').update(params.checks.codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  if (params.loginHint) search.login_hint = params.loginHint;
  return client.buildAuthorizationUrl(idp.configuration, search);
}

/**
 * Redeems the code at the token endpoint with the connection's client authentication and the
 * PKCE verifier, and validates the ID token (OpenID Connect Core §3.1.3.7): openid-client
 * checks alg, iss (exactly), aud, azp, exp, nonce; then its RS256 signature is verified
 * against the IdP's JWKS, and `iat` must not lie beyond the clock tolerance in the future.
 */
export async function exchangeCode(idp: Idp, callbackUrl: URL, redirectUri: string, checks: LoginChecks): Promise<ExchangeResult> {
  try {
    const configuration = idp.issuerTemplate ? await redeemForTemplatedIssuer(idp, idp.issuerTemplate, callbackUrl, redirectUri, checks) : idp.configuration;
    const tokens = await client.authorizationCodeGrant(
      configuration,
      callbackUrl,
      grantChecks(checks),
      { redirect_uri: redirectUri },
    );
    const claims = tokens.claims();
    if (!claims || typeof tokens.id_token !== 'string') throw new client.ClientError('ID Token missing from the token response');
    // OpenID Connect Core §3.1.3.7 step 5: openid-client compares azp only when aud has
    // several values; an azp naming another client is a token minted for someone else.
    if (claims.azp !== undefined && claims.azp !== configuration.clientMetadata().client_id) {
      throw new BrokerError('invalid_id_token', { logMessage: `ID token azp ${JSON.stringify(claims.azp)} is not the client id` });
    }
    await verifyIdTokenSignature(tokens.id_token, idp);
    // §3.1.3.7 step 10 leaves how far iat may stray to the client; we allow the clock skew.
    if (claims.iat > Date.now() / 1000 + idp.clockToleranceSeconds) {
      throw new BrokerError('invalid_id_token', { logMessage: `ID token iat ${claims.iat} is in the future` });
    }
    return { claims, idToken: tokens.id_token, accessToken: tokens.access_token };
  } catch (error) {
    throw translateTokenError(error);
  }
}

const grantChecks = (checks: LoginChecks) => ({
  expectedState: checks.state,
  expectedNonce: checks.nonce,
  pkceCodeVerifier: checks.codeVerifier,
  idTokenExpected: true,
});

/**
 * Entra ID multi-tenant (issuer `https://login.microsoftonline.com/{tenantid}/v2.0`): the ID
 * token's `iss` must equal the template filled with its own `tid`, and `tid` must be allowed.
 * openid-client compares `iss` with one fixed issuer, so the code is redeemed once with a
 * configuration that keeps the raw token response; the `tid` it names picks the concrete
 * issuer; and the response is then replayed (no second request to the IdP) into a
 * configuration with that issuer, where openid-client runs every check as for any IdP.
 * Returns that configuration, primed to answer the token request from the captured response.
 */
async function redeemForTemplatedIssuer(
  idp: Idp,
  template: NonNullable<Idp['issuerTemplate']>,
  callbackUrl: URL,
  redirectUri: string,
  checks: LoginChecks,
): Promise<client.Configuration> {
  const tokenEndpoint = idp.configuration.serverMetadata().token_endpoint;
  // RFC 9207's iss names the concrete tenant, which the template-issuer configurations cannot
  // compare: response-issuer.ts checked it against the template before we got here.
  callbackUrl = new URL(callbackUrl);
  callbackUrl.searchParams.delete('iss');
  const realFetch = idp.configuration[client.customFetch] ?? fetch;
  let captured: { status: number; headers: Headers; body: string } | undefined;
  const capture = template.configuration({
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      const response = await realFetch(url as string, init as never);
      if (String(url) !== tokenEndpoint) return response;
      captured = { status: response.status, headers: response.headers, body: await response.text() };
      return new Response(captured.body, { status: captured.status, headers: captured.headers });
    }) as typeof fetch,
  });
  try {
    await client.authorizationCodeGrant(capture, callbackUrl, grantChecks(checks), { redirect_uri: redirectUri });
    // Only an iss that is literally the template could pass here: never a real tenant.
    throw new BrokerError('invalid_id_token', { logMessage: 'ID token iss is the unfilled issuer template' });
  } catch (error) {
    if (!captured || captured.status !== 200) throw error;
  }
  const tid = unverifiedIdTokenClaim(captured.body, 'tid');
  if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) {
    throw new BrokerError('invalid_id_token', { logMessage: 'ID token for a {tenantid} issuer has no valid tid' });
  }
  if (!template.allowedTenantIds.includes('*') && !template.allowedTenantIds.some((allowed) => allowed.toLowerCase() === tid.toLowerCase())) {
    throw new BrokerError('invalid_id_token', { description: 'This organisation’s directory is not allowed for this connection.', logMessage: `tid ${tid} is not in allowedTenantIds` });
  }
  const replay = captured;
  let replayed = false;
  return template.configuration({
    issuer: template.template.replaceAll('{tenantid}', tid),
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url) === tokenEndpoint && !replayed) {
        replayed = true;
        return new Response(replay.body, { status: replay.status, headers: replay.headers });
      }
      return realFetch(url as string, init as never);
    }) as typeof fetch,
  });
}

/** A claim of the (not yet verified) ID token in a token response; only to choose what to verify against. */
function unverifiedIdTokenClaim(tokenResponse: string, claim: string): unknown {
  try {
    const idToken = (JSON.parse(tokenResponse) as { id_token?: unknown }).id_token;
    return typeof idToken === 'string' ? jose.decodeJwt(idToken)[claim] : undefined;
  } catch {
    return undefined;
  }
}

/** Userinfo (OpenID Connect Core §5.3.2): its `sub` must equal the ID token's. */
export async function fetchUserinfo(idp: Idp, accessToken: string, subject: string): Promise<Record<string, unknown>> {
  try {
    return await client.fetchUserInfo(idp.configuration, accessToken, subject);
  } catch (error) {
    throw translateUserinfoError(error);
  }
}
