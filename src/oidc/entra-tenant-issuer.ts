import * as jose from 'jose';
import * as client from 'openid-client';
import { BrokerError } from '../errors/broker-error.js';
import type { Idp } from './idp-registry.js';

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
  const parts = template.split('{tenantid}').map(escapeRegExp);
  const pattern = parts.slice(1).reduce((source, part, index) => `${source}${index === 0 ? `(${GUID})` : '\\1'}${part}`, parts[0]!);
  return new RegExp(`^${pattern}$`).exec(issuer)?.[1]?.toLowerCase();
}

/** `tid` is one of `allowedTenantIds` (compared without case), or they say `*`. */
export function isTenantAllowed(allowedTenantIds: readonly string[], tid: string): boolean {
  return allowedTenantIds.includes('*') || allowedTenantIds.some((allowed) => allowed.toLowerCase() === tid.toLowerCase());
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Entra ID multi-tenant (issuer `https://login.microsoftonline.com/{tenantid}/v2.0`): the ID
 * token's `iss` must equal the template filled with its own `tid`, and `tid` must be allowed.
 * openid-client compares `iss` with one fixed issuer, so the code is redeemed once with a
 * configuration that keeps the raw token response; the `tid` it names picks the concrete
 * issuer; and the response is then replayed (no second request to the IdP) into a
 * configuration with that issuer, where openid-client runs every check as for any IdP.
 * Returns that configuration, primed to answer the token request from the captured response.
 */
export async function redeemForTenantIssuer(
  idp: Idp,
  template: NonNullable<Idp['issuerTemplate']>,
  callbackUrl: URL,
  redirectUri: string,
  checks: client.AuthorizationCodeGrantChecks,
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
    await client.authorizationCodeGrant(capture, callbackUrl, checks, { redirect_uri: redirectUri });
    // Only an iss that is literally the template could pass here: never a real tenant.
    throw new BrokerError('invalid_id_token', { logMessage: 'ID token iss is the unfilled issuer template' });
  } catch (error) {
    if (!captured || captured.status !== 200) throw error;
  }
  const tid = unverifiedIdTokenClaim(captured.body, 'tid');
  if (typeof tid !== 'string' || !new RegExp(`^${GUID}$`).test(tid)) {
    throw new BrokerError('invalid_id_token', { logMessage: 'ID token for a {tenantid} issuer has no valid tid' });
  }
  if (!isTenantAllowed(template.allowedTenantIds, tid)) {
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
