import { BrokerError } from '../../../errors/broker-error.js';
import type { SignInDemands } from '../login-transaction.js';

/** How far the IdP's clock may be from ours when `auth_time` is judged (contract: at most 60 s). */
export const AUTH_TIME_SKEW_SECONDS = 60;

/**
 * Guarantees (contract v4, freshness): with `max_age`, the ID token carries an `auth_time` no
 * older than `max_age` seconds (OpenID Connect Core §3.1.2.1 makes it required then; an IdP that
 * ignores `max_age` and sends none is refused rather than believed); with `prompt=login`, an
 * `auth_time`, when present, is not older than the start of this login — the IdP did not
 * reuse a session from before. Each within AUTH_TIME_SKEW_SECONDS; otherwise
 * `stale_authentication`, back to the app. openid-client has already refused a non-numeric
 * `auth_time` (`invalid_id_token`). Returns what was checked, for the diagnostics.
 */
export function assertFreshAuthentication(
  claims: Record<string, unknown>,
  demands: Pick<SignInDemands, 'maxAge' | 'promptLogin'>,
  login: { startedAt: number; now: number },
): string {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
  const nowSeconds = login.now / 1000;
  const checked: string[] = [];
  if (demands.maxAge !== undefined) {
    if (authTime === undefined) throw stale('max_age was sent and the ID token has no auth_time');
    if (authTime < nowSeconds - demands.maxAge - AUTH_TIME_SKEW_SECONDS)
      throw stale(`auth_time ${authTime} is older than max_age ${demands.maxAge} s`);
    checked.push(`auth_time within max_age ${demands.maxAge} s`);
  }
  if (demands.promptLogin && authTime !== undefined) {
    if (authTime < login.startedAt / 1000 - AUTH_TIME_SKEW_SECONDS)
      throw stale(`prompt=login was sent and auth_time ${authTime} is before the login started`);
    checked.push('auth_time after the login started (prompt=login)');
  }
  if (demands.promptLogin && authTime === undefined) checked.push('prompt=login sent; no auth_time to compare');
  return `${checked.join('; ')} (${AUTH_TIME_SKEW_SECONDS} s of clock skew allowed)`;
}

function stale(reason: string): BrokerError {
  return new BrokerError('stale_authentication', { logMessage: reason });
}
