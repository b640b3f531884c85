import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { BrokerError } from '../errors/broker-error.js';
import type { Idp } from './idp.js';

/**
 * Entra ID multi-tenant connections, in one place. Their issuer is a template,
 * `https://login.microsoftonline.com/{tenantid}/v2.0` (or v1's `https://sts.windows.net/{tenantid}/`):
 * - discovery is at `/organizations` (idp-url.ts, defaultDiscoveryUrl), whose metadata names
 *   the template literally, so the configured issuer is compared with it exactly;
 * - a response's RFC 9207 `iss` and an ID token's `iss` must each be the template filled with
 *   one tenant id, and that tenant must be in the connection's `allowedTenantIds` (`["*"]`
 *   accepts any, explicitly); the ID token's `tid` must name the same tenant.
 */

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** The tenant id an issuer is `template` filled with (every `{tenantid}` the same), or undefined. */
export function tenantOfIssuer(template: string, issuer: string): string | undefined {
  // The first `{tenantid}` is captured, the others are back-references to it.
  const [first = '', ...rest] = template.split('{tenantid}').map(escapeRegExp);
  const pattern = rest.reduce((source, part, index) => `${source}${index === 0 ? `(${GUID})` : '\\1'}${part}`, first);
  return new RegExp(`^${pattern}$`).exec(issuer)?.[1]?.toLowerCase();
}

/** `tid` is one of `allowedTenantIds` (compared without case), or they say `*`. */
export function isTenantAllowed(allowedTenantIds: readonly string[], tid: string): boolean {
  return (
    allowedTenantIds.includes('*') || allowedTenantIds.some((allowed) => allowed.toLowerCase() === tid.toLowerCase())
  );
}

/**
 * Whether `iss` is a connection's issuer: exactly, or, for an Entra `{tenantid}` template, the
 * template filled with one of `allowedTenantIds`.
 */
export function isConnectionIssuer(issuer: string, allowedTenantIds: readonly string[], iss: string): boolean {
  if (!issuer.includes('{tenantid}')) return iss === issuer;
  const tid = tenantOfIssuer(issuer, iss);
  return tid !== undefined && isTenantAllowed(allowedTenantIds, tid);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Redeems the code of a `{tenantid}` connection in one pass. openid-client compares `iss` with
 * one fixed issuer, so this uses oauth4webapi — the library openid-client runs on, whose steps
 * can be called one at a time — to choose the issuer between receiving and checking the answer:
 * 1. the authorization response belongs to this browser (state); its RFC 9207 `iss` names the
 *    concrete tenant and response-issuer.ts has already checked it against the template;
 * 2. the token request, as openid-client sends it: the connection's client authentication, the
 *    PKCE verifier, the IdP fetch under the network policy, the same timeout;
 * 3. the ID token's `tid`, read before verification only to choose the issuer: it must be a
 *    GUID the connection allows;
 * 4. every claim check openid-client runs for any IdP (OpenID Connect Core §3.1.3.7: alg, iss
 *    = the template filled with that `tid`, aud, azp, exp, iat, nonce), by the same code.
 * The caller then verifies the signature and `azp`, as for any IdP (code-exchange.ts).
 */
export async function redeemForTenantIssuer(
  idp: Idp,
  template: NonNullable<Idp['issuerTemplate']>,
  callbackUrl: URL,
  redirectUri: string,
  checks: { state: string; nonce: string; codeVerifier: string },
): Promise<{ claims: client.IDToken; idToken: string; accessToken: string }> {
  const { configuration } = idp;
  const as: oauth.AuthorizationServer = idp.metadata;
  const clientMetadata: oauth.Client = {
    ...configuration.clientMetadata(),
    [oauth.clockTolerance]: idp.clockToleranceSeconds,
  };

  const answer = new URLSearchParams(callbackUrl.searchParams);
  answer.delete('iss');
  const params = oauth.validateAuthResponse(as, clientMetadata, answer, checks.state);

  const response = await oauth.authorizationCodeGrantRequest(
    as,
    clientMetadata,
    template.clientAuth,
    params,
    redirectUri,
    checks.codeVerifier,
    {
      [oauth.customFetch]: configuration[client.customFetch],
      [oauth.allowInsecureRequests]: template.insecure,
      signal: AbortSignal.timeout((configuration.timeout ?? 30) * 1000),
    },
  );

  // An error answer has no tenant to choose: processing it below reports the IdP's error.
  let issuer = as.issuer;
  if (response.ok) {
    const tid = await unverifiedTenant(response.clone());
    if (tid === undefined)
      throw new BrokerError('invalid_id_token', { logMessage: 'ID token for a {tenantid} issuer has no valid tid' });
    if (!isTenantAllowed(template.allowedTenantIds, tid)) {
      throw new BrokerError('invalid_id_token', {
        description: 'This organisation’s directory is not allowed for this connection.',
        logMessage: `tid ${tid} is not in allowedTenantIds`,
      });
    }
    issuer = template.template.replaceAll('{tenantid}', tid);
  }

  const result = await oauth.processAuthorizationCodeResponse({ ...as, issuer }, clientMetadata, response, {
    expectedNonce: checks.nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(result);
  // requireIdToken has made sure of both; the compiler cannot know it.
  if (!claims || result.id_token === undefined)
    throw new BrokerError('invalid_id_token', { logMessage: 'no ID token' });
  return { claims: claims as client.IDToken, idToken: result.id_token, accessToken: result.access_token };
}

/** The `tid` of the (not yet verified) ID token in a token response, when it is a GUID. */
async function unverifiedTenant(response: Response): Promise<string | undefined> {
  try {
    const idToken = ((await response.json()) as { id_token?: unknown }).id_token;
    const tid = typeof idToken === 'string' ? jose.decodeJwt(idToken).tid : undefined;
    return typeof tid === 'string' && new RegExp(`^${GUID}$`).test(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
