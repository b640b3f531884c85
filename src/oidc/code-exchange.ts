import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { BrokerError } from '../errors/broker-error.js';
import type { Idp } from './idp.js';
import { redeemForTenantIssuer } from './entra-tenant-issuer.js';
import { verifyIdTokenSignature } from './id-token-signature.js';
import { assertIdTokenSize, assertUserinfoSize } from './identity-size.js';
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
  params: {
    redirectUri: string;
    scopes: readonly string[];
    checks: LoginChecks;
    loginHint?: string | undefined;
    /** OpenID Connect Core §3.1.2.1, in order of preference. */
    acrValues?: readonly string[] | undefined;
    maxAge?: number | undefined;
    prompt?: string | undefined;
  },
): URL {
  const search: Record<string, string> = {
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope: [
      'openid',
      'email',
      'profile',
      ...params.scopes.filter((s) => !['openid', 'email', 'profile'].includes(s)),
    ].join(' '),
    state: params.checks.state,
    nonce: params.checks.nonce,
    // RFC 7636 §4.2, S256: synchronous node:crypto rather than a WebCrypto job per login.
    code_challenge: createHash('sha256').update(params.checks.codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  if (params.loginHint) search.login_hint = params.loginHint;
  if (params.acrValues?.length) search.acr_values = params.acrValues.join(' ');
  if (params.maxAge !== undefined) search.max_age = String(params.maxAge);
  if (params.prompt !== undefined) search.prompt = params.prompt;
  return client.buildAuthorizationUrl(idp.configuration, search);
}

/**
 * Redeems the code at the token endpoint with the connection's client authentication and the
 * PKCE verifier, and validates the ID token (OpenID Connect Core §3.1.3.7): openid-client
 * checks alg, iss (exactly), aud, azp, exp, nonce; then its RS256 signature is verified
 * against the IdP's JWKS, and `iat` must not lie beyond the clock tolerance in the future.
 */
export async function exchangeCode(
  idp: Idp,
  callbackUrl: URL,
  redirectUri: string,
  checks: LoginChecks,
): Promise<ExchangeResult> {
  try {
    const result = idp.issuerTemplate
      ? await redeemForTenantIssuer(idp, idp.issuerTemplate, callbackUrl, redirectUri, checks)
      : await redeem(idp, callbackUrl, redirectUri, checks);
    // Before anything else is done with it: a token over the bound never reaches a ticket.
    assertIdTokenSize(result.idToken);
    const { claims } = result;
    // OpenID Connect Core §3.1.3.7 step 5: openid-client compares azp only when aud has
    // several values; an azp naming another client is a token minted for someone else.
    if (claims.azp !== undefined && claims.azp !== idp.configuration.clientMetadata().client_id) {
      throw new BrokerError('invalid_id_token', {
        logMessage: `ID token azp ${JSON.stringify(claims.azp)} is not the client id`,
      });
    }
    await verifyIdTokenSignature(result.idToken, idp);
    // §3.1.3.7 step 10 leaves how far iat may stray to the client; we allow the clock skew.
    if (claims.iat > Date.now() / 1000 + idp.clockToleranceSeconds) {
      throw new BrokerError('invalid_id_token', { logMessage: `ID token iat ${claims.iat} is in the future` });
    }
    return result;
  } catch (error) {
    throw translateTokenError(error);
  }
}

/** openid-client's code grant: state, PKCE, client authentication, then the ID token's claims. */
async function redeem(idp: Idp, callbackUrl: URL, redirectUri: string, checks: LoginChecks): Promise<ExchangeResult> {
  const tokens = await client.authorizationCodeGrant(idp.configuration, callbackUrl, grantChecks(checks), {
    redirect_uri: redirectUri,
  });
  const claims = tokens.claims();
  if (!claims || typeof tokens.id_token !== 'string')
    throw new client.ClientError('ID Token missing from the token response');
  return { claims, idToken: tokens.id_token, accessToken: tokens.access_token };
}

const grantChecks = (checks: LoginChecks): client.AuthorizationCodeGrantChecks => ({
  expectedState: checks.state,
  expectedNonce: checks.nonce,
  pkceCodeVerifier: checks.codeVerifier,
  idTokenExpected: true,
});

/**
 * Userinfo (OpenID Connect Core §5.3.2): its `sub` must equal the ID token's, and its claims
 * stay within MAX_USERINFO_LENGTH (identity-size.ts).
 */
export async function fetchUserinfo(idp: Idp, accessToken: string, subject: string): Promise<Record<string, unknown>> {
  try {
    const userinfo = await client.fetchUserInfo(idp.configuration, accessToken, subject);
    assertUserinfoSize(userinfo);
    return userinfo;
  } catch (error) {
    throw translateUserinfoError(error);
  }
}
