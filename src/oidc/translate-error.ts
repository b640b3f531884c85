import * as client from 'openid-client';
import { BrokerError, isBrokerError, type ErrorCode } from '../errors/broker-error.js';

// oauth4webapi codes that can only come from checking the ID token itself.
const ID_TOKEN_CODES = new Set<string>([
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
]);

/**
 * The one place openid-client errors become broker errors. Upstream text goes to the log
 * (as the cause), never to the learner or the app.
 *
 * - the IdP answered the token request with an OAuth error, a non-2xx, non-JSON, or nothing
 *   in time → token_exchange_failed
 * - the ID token failed a check of OpenID Connect Core §3.1.3.7 → invalid_id_token
 */
export function translateTokenError(error: unknown): BrokerError {
  if (isBrokerError(error)) return error;
  let code: ErrorCode = 'token_exchange_failed';
  if (error instanceof client.ClientError) {
    const detail = `${error.message} ${error.cause instanceof Error ? error.cause.message : ''}`;
    if (ID_TOKEN_CODES.has(error.code ?? '') || /JWT|ID Token|JWS/.test(detail)) code = 'invalid_id_token';
    // A JWKS that cannot be fetched is an IdP availability problem, not a bad token.
    if (/jwks/i.test(detail) && error.code !== 'OAUTH_KEY_SELECTION_FAILED') code = 'token_exchange_failed';
  } else if (error instanceof client.AuthorizationResponseError) {
    code = 'idp_error';
  }
  return new BrokerError(code, { cause: error, logMessage: describeUpstream(error) });
}

export function describeUpstream(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `IdP answered ${error.status} ${error.error}`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name} ${(error as { code?: string }).code ?? ''} ${error.message}${cause}`.replace(/\s+/g, ' ').trim();
  }
  return String(error);
}
