import { BrokerError } from '../errors/broker-error.js';

/**
 * How much identity the broker takes from an IdP. Whatever a login accepts ends up in its
 * ticket, and a ticket too large for a URL is stored in the database until it is redeemed or
 * expires (domain/tickets): without a bound, a hostile IdP could make every scripted login
 * write about half a megabyte (the most an IdP answer may be, bounded-fetch.ts).
 *
 * 32 KiB each, twice what real IdPs send at most: Entra ID and Okta tokens with many groups
 * reach 10–16 KiB (Entra ID sends a groups overage claim instead beyond 200 groups). Lengths
 * are in characters of the token, and of the JSON of the claims: cheap to measure, and at
 * most the bytes for the ASCII of a compact JWS.
 */
export const MAX_ID_TOKEN_LENGTH = 32 * 1024;
/** The userinfo answer's claims, as JSON. */
export const MAX_USERINFO_LENGTH = 32 * 1024;
/** The claims the identity is mapped from (the ID token's and userinfo's together), as JSON. */
export const MAX_CLAIMS_LENGTH = 32 * 1024;

/** An IdP answer over its bound: `idp_error`, saying which and how large. */
function tooLarge(what: string, length: number, max: number): BrokerError {
  return new BrokerError('idp_error', {
    description: `The identity provider sent ${what} larger than the ${max / 1024} KiB the sign-in service accepts.`,
    logMessage: `${what} of ${length} characters exceeds ${max}`,
  });
}

export function assertIdTokenSize(idToken: string): void {
  if (idToken.length > MAX_ID_TOKEN_LENGTH) throw tooLarge('an ID token', idToken.length, MAX_ID_TOKEN_LENGTH);
}

export function assertUserinfoSize(userinfo: Record<string, unknown>): void {
  const length = JSON.stringify(userinfo).length;
  if (length > MAX_USERINFO_LENGTH) throw tooLarge('a userinfo answer', length, MAX_USERINFO_LENGTH);
}

export function assertClaimsSize(claims: Record<string, unknown>): void {
  const length = JSON.stringify(claims).length;
  if (length > MAX_CLAIMS_LENGTH) throw tooLarge('claims', length, MAX_CLAIMS_LENGTH);
}
