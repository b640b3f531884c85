import * as jose from 'jose';
import * as client from 'openid-client';
import { BrokerError } from '../errors/broker-error.js';
import type { Idp } from './idp-registry.js';
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
export async function buildAuthorizationRedirect(
  idp: Pick<Idp, 'configuration'>,
  params: { redirectUri: string; scopes: readonly string[]; checks: LoginChecks; loginHint?: string | undefined },
): Promise<URL> {
  const search: Record<string, string> = {
    response_type: 'code',
    redirect_uri: params.redirectUri,
    scope: ['openid', 'email', 'profile', ...params.scopes.filter((s) => !['openid', 'email', 'profile'].includes(s))].join(' '),
    state: params.checks.state,
    nonce: params.checks.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(params.checks.codeVerifier),
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
    const tokens = await client.authorizationCodeGrant(
      idp.configuration,
      callbackUrl,
      {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      },
      { redirect_uri: redirectUri },
    );
    const claims = tokens.claims();
    if (!claims || typeof tokens.id_token !== 'string') throw new client.ClientError('ID Token missing from the token response');
    await verifySignature(tokens.id_token, idp.keys);
    // §3.1.3.7 step 10 leaves how far iat may stray to the client; we allow the clock skew.
    if (claims.iat > Date.now() / 1000 + idp.clockToleranceSeconds) {
      throw new BrokerError('invalid_id_token', { logMessage: `ID token iat ${claims.iat} is in the future` });
    }
    return { claims, idToken: tokens.id_token, accessToken: tokens.access_token };
  } catch (error) {
    throw translateTokenError(error);
  }
}

/**
 * RS256 only: alg "none", HS256 (whatever its key) and every other algorithm are refused.
 * A token without `kid` while the JWKS holds several RSA keys is checked against each of them
 * (one of the two behaviours the OpenID RP certification accepts for that case).
 */
async function verifySignature(idToken: string, keys: Idp['keys']): Promise<void> {
  const options = { algorithms: ['RS256'] };
  try {
    await jose.compactVerify(idToken, keys, options);
  } catch (error) {
    if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error as unknown as AsyncIterable<jose.CryptoKey>) {
      try {
        await jose.compactVerify(idToken, candidate, options);
        return;
      } catch (inner) {
        if (!(inner instanceof jose.errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new jose.errors.JWSSignatureVerificationFailed();
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
