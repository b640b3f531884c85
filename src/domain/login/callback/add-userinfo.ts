import { isBrokerError } from '../../../errors/broker-error.js';
import { fetchUserinfo, type ExchangeResult } from '../../../oidc/code-exchange.js';
import type { Idp } from '../../../oidc/idp.js';

/**
 * Guarantees: userinfo is asked when the connection says so (`fetchUserinfo`), or to find the
 * email an ID token lacks (Entra ID without the optional claim, PingOne). Its `sub` must be the
 * ID token's either way (else `invalid_id_token`); an unreachable userinfo fails the login
 * only when the connection asked for it. The ID token's claims win over userinfo's.
 * Returns the claims to map, and whether userinfo was used (for the trace).
 */
export async function addUserinfo(
  idp: Idp,
  result: ExchangeResult,
  options: { required: boolean; connectionId: string; log: { warn(obj: object, msg: string): void } },
): Promise<{ claims: Record<string, unknown>; fetched: boolean }> {
  const userinfo = await fetchUserinfo(idp, result.accessToken, result.claims.sub).catch((error: unknown) => {
    if (options.required || (isBrokerError(error) && error.code === 'invalid_id_token')) throw error;
    options.log.warn(
      { connection: options.connectionId, reason: isBrokerError(error) ? error.message : String(error) },
      'userinfo unavailable; the ID token alone names the user',
    );
    return undefined;
  });
  return userinfo
    ? { claims: { ...userinfo, ...result.claims }, fetched: true }
    : { claims: result.claims, fetched: false };
}

/**
 * Whether userinfo is asked at all: the connection requires it, or the ID token has no email
 * and the IdP has userinfo.
 */
export function userinfoWanted(required: boolean, idp: Pick<Idp, 'hasUserinfo'>, result: ExchangeResult): boolean {
  return required || (typeof result.claims.email !== 'string' && idp.hasUserinfo);
}
