import * as client from 'openid-client';
import { translateTokenError } from './translate-error.js';

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
  configuration: client.Configuration,
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
  return client.buildAuthorizationUrl(configuration, search);
}

/**
 * Redeems the code at the token endpoint with the connection's client authentication and the
 * PKCE verifier, then validates the ID token (OpenID Connect Core §3.1.3.7: signature against
 * the IdP's JWKS, iss, aud, azp, exp, iat, nonce) through openid-client.
 */
export async function exchangeCode(
  configuration: client.Configuration,
  callbackUrl: URL,
  redirectUri: string,
  checks: LoginChecks,
): Promise<ExchangeResult> {
  try {
    const tokens = await client.authorizationCodeGrant(
      configuration,
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
    return { claims, idToken: tokens.id_token, accessToken: tokens.access_token };
  } catch (error) {
    throw translateTokenError(error);
  }
}

/** Userinfo (OpenID Connect Core §5.3.2): its `sub` must equal the ID token's. */
export async function fetchUserinfo(
  configuration: client.Configuration,
  accessToken: string,
  subject: string,
): Promise<Record<string, unknown>> {
  try {
    return await client.fetchUserInfo(configuration, accessToken, subject);
  } catch (error) {
    throw translateTokenError(error);
  }
}
