import * as jose from 'jose';
import { BrokerError, isBrokerError } from '../errors/broker-error.js';
import { isConnectionIssuer } from './entra-tenant-issuer.js';
import { verifyIdTokenSignature } from './id-token-signature.js';
import type { Idp } from './idp.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token is accepted while its `iat` is within the last 5 minutes (with the skew). */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;
/** Clock skew tolerated on `iat` and `exp`. */
export const LOGOUT_TOKEN_SKEW_SECONDS = 60;
/** Larger tokens are not even decoded: a logout token is a few hundred bytes. */
const MAX_LOGOUT_TOKEN_LENGTH = 16 * 1024;

/** What a valid logout token says: which sessions, and the `jti` to refuse a replay of. */
export interface LogoutToken {
  sub: string | undefined;
  sid: string | undefined;
  jti: string;
  /** Until when this token could be accepted (ms): its `jti` must be remembered that long. */
  acceptableUntil: number;
}

/** The connection a logout token is for: its IdP (keys) and who it must be issued by and to. */
export interface LogoutTokenAudience {
  idp: Pick<Idp, 'keys' | 'onStaleKeys'>;
  issuer: string;
  allowedTenantIds: readonly string[];
  clientId: string;
}

function refuse(description: string): BrokerError {
  return new BrokerError('invalid_request', { description: `Logout token refused: ${description}.` });
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.6, every step, in order: a signed (not encrypted)
 * JWT; its RS256 signature against the connection's IdP keys, as an ID token's; `iss`, `aud`,
 * `iat` (within the last 5 minutes, 60 s skew), `exp` when present; `jti`; `events` with the
 * back-channel logout member, an object; `sub` or `sid`; no `nonce`. Throws `invalid_request`
 * (400) saying which rule failed, never echoing the token.
 */
export async function verifyLogoutToken(
  token: unknown,
  audience: LogoutTokenAudience,
  now = Date.now(),
): Promise<LogoutToken> {
  if (typeof token !== 'string' || token.length === 0) throw refuse('the form has no logout_token');
  if (token.length > MAX_LOGOUT_TOKEN_LENGTH) throw refuse('it is too large');
  const parts = token.split('.');
  if (parts.length === 5) throw refuse('it is encrypted, and this client registered no encryption');
  let header: jose.ProtectedHeaderParameters;
  try {
    if (parts.length !== 3) throw new Error('not a compact JWS');
    header = jose.decodeProtectedHeader(token);
  } catch {
    throw refuse('it is not a signed JWT');
  }
  if (header.alg !== 'RS256')
    throw refuse(`it is signed with ${JSON.stringify(String(header.alg).slice(0, 20))}, not RS256`);
  try {
    await verifyIdTokenSignature(token, audience.idp);
  } catch (error) {
    // A wrong signature or key is the token's fault; the IdP's keys out of reach is not (503).
    if (isBrokerError(error) && error.code === 'invalid_id_token') throw refuse('its signature does not verify');
    throw new BrokerError('temporarily_unavailable', {
      cause: error,
      description: 'The identity provider’s keys could not be fetched to verify the logout token; send it again.',
    });
  }
  let claims: jose.JWTPayload;
  try {
    claims = jose.decodeJwt(token);
  } catch {
    throw refuse('its payload is not a JSON object');
  }
  const nowSeconds = now / 1000;

  // The connection's issuer, or its Entra ID `{tenantid}` template filled with an allowed tenant.
  const { iss } = claims;
  const issuerMatches = typeof iss === 'string' && isConnectionIssuer(audience.issuer, audience.allowedTenantIds, iss);
  if (!issuerMatches) throw refuse('iss is not this connection’s issuer');

  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(audience.clientId)) throw refuse('aud does not contain this connection’s client id');

  const { iat, exp } = claims;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw refuse('iat is missing');
  if (iat > nowSeconds + LOGOUT_TOKEN_SKEW_SECONDS) throw refuse('iat is in the future');
  if (iat < nowSeconds - LOGOUT_TOKEN_MAX_AGE_SECONDS - LOGOUT_TOKEN_SKEW_SECONDS)
    throw refuse('iat is more than 5 minutes ago');
  if (exp !== undefined && (typeof exp !== 'number' || exp + LOGOUT_TOKEN_SKEW_SECONDS <= nowSeconds))
    throw refuse('it has expired');

  const { jti } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw refuse('jti is missing');

  const events = (claims as { events?: unknown }).events;
  if (!isObject(events) || !(BACKCHANNEL_LOGOUT_EVENT in events))
    throw refuse(`events has no member ${BACKCHANNEL_LOGOUT_EVENT}`);
  if (!isObject(events[BACKCHANNEL_LOGOUT_EVENT]))
    throw refuse(`the ${BACKCHANNEL_LOGOUT_EVENT} event is not an object`);

  const sub = (claims as { sub?: unknown }).sub;
  const sid = (claims as { sid?: unknown }).sid;
  if (sub !== undefined && !isSessionName(sub)) throw refuse('sub is not a string of 1 to 255 characters');
  if (sid !== undefined && !isSessionName(sid)) throw refuse('sid is not a string of 1 to 255 characters');
  if (sub === undefined && sid === undefined) throw refuse('it has neither sub nor sid');

  if ('nonce' in claims) throw refuse('it has a nonce, which a logout token must not have');

  return {
    sub,
    sid,
    jti,
    acceptableUntil: (iat + LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_SKEW_SECONDS) * 1000,
  };
}

/**
 * A `sub` or `sid` a session can carry: text PostgreSQL stores (no NUL), of a sane length. A
 * session keeps only such names (ticket.service.ts), so it is found by the tokens accepted.
 */
export function isSessionName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 255 && !value.includes('\u0000');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
