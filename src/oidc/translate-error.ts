import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { BrokerError, isBrokerError, type ErrorCode } from '../errors/broker-error.js';
import { IdpAddressRefused } from './network-policy.js';

// oauth4webapi codes that can only come from checking the ID token itself.
const ID_TOKEN_CODES = new Set<string>([
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
]);

// jose errors that say the token is bad; any other jose error is about fetching the keys.
const BAD_SIGNATURE = [
  jose.errors.JWSSignatureVerificationFailed,
  jose.errors.JWKSNoMatchingKey,
  jose.errors.JWKSMultipleMatchingKeys,
  jose.errors.JOSEAlgNotAllowed,
  jose.errors.JWSInvalid,
  jose.errors.JOSENotSupported,
];

/**
 * The one place IdP-facing library errors become broker errors. Upstream text goes to the
 * log (as the reason line), never to the learner or the app.
 *
 * - an IdP URL the network policy refuses (network-policy.ts), wherever the library wrapped the
 *   refusal → idp_error, as for an IdP that cannot be reached at all
 * - the IdP answered the token request with an OAuth error, a non-2xx, non-JSON, too much,
 *   or nothing in time; or its JWKS could not be fetched → token_exchange_failed
 * - the ID token failed a check of OpenID Connect Core §3.1.3.7 → invalid_id_token
 * - the ID token has no `sub` → missing_claims (the broker's rule for required claims)
 */
export function translateTokenError(error: unknown): BrokerError {
  if (isBrokerError(error)) return error;
  // openid-client wraps what the fetch threw (ClientError "something went wrong"), jose does not.
  const refused = findCause(error, (cause): cause is IdpAddressRefused => cause instanceof IdpAddressRefused);
  if (refused) return new BrokerError('idp_error', { cause: error, logMessage: refused.message });
  let code: ErrorCode = 'token_exchange_failed';
  // openid-client wraps oauth4webapi's errors; entra-tenant-issuer.ts calls oauth4webapi itself.
  if (error instanceof client.ClientError || error instanceof oauth.OperationProcessingError) {
    const detail = `${error.message} ${error.cause instanceof Error ? error.cause.message : ''}`;
    if (ID_TOKEN_CODES.has(error.code ?? '') || /JWT|ID Token|JWS/.test(detail)) code = 'invalid_id_token';
    if (/JWT "sub" \(subject\) claim missing/i.test(detail)) code = 'missing_claims';
  } else if (BAD_SIGNATURE.some((type) => error instanceof type)) {
    code = 'invalid_id_token';
  } else if (error instanceof client.AuthorizationResponseError) {
    code = 'idp_error';
  }
  const description = code === 'missing_claims' ? 'The identity provider did not send sub.' : undefined;
  return new BrokerError(code, {
    cause: error,
    logMessage: describeUpstream(error),
    ...(description && { description }),
  });
}

/** Userinfo for another subject is an identity that does not verify. */
export function translateUserinfoError(error: unknown): BrokerError {
  if (error instanceof client.ClientError && error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return new BrokerError('invalid_id_token', {
      description: "The identity provider's userinfo is for another user.",
      cause: error,
      logMessage: describeUpstream(error),
    });
  }
  return translateTokenError(error);
}

/**
 * The reason line for the log: names, codes and messages of the error and its causes, and the
 * HTTP status of the IdP's answer when the library kept it — a `403` with an empty body is
 * a refusal, a `502` a broken IdP, and both raise the same "not JSON" error. Never a body.
 */
export function describeUpstream(error: unknown): string {
  const refused = findCause(error, (cause): cause is IdpAddressRefused => cause instanceof IdpAddressRefused);
  if (refused) return `refused by the IdP network policy: ${refused.message}`;
  if (error instanceof client.ResponseBodyError) return `IdP answered HTTP ${error.status} ${error.error}`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const answer = upstreamResponse(error);
    const status = answer ? ` (IdP answered HTTP ${answer.status}${contentType(answer)})` : '';
    return `${error.name} ${(error as { code?: string }).code ?? ''} ${error.message}${cause}${status}`
      .replace(/\s+/g, ' ')
      .trim();
  }
  return String(error);
}

/**
 * oauth4webapi keeps the IdP's Response as the cause of "unexpected response content-type"
 * and "unexpected HTTP response status code" (openid-client passes it on as `cause`), and as
 * `response` on WWW-Authenticate challenges.
 */
function upstreamResponse(error: unknown): Response | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Response) return current;
    const response = (current as { response?: unknown }).response;
    if (response instanceof Response) return response;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function contentType(response: Response): string {
  const type = response.headers.get('content-type');
  return type ? `, content-type ${(type.split(';')[0] ?? '').trim().slice(0, 60)}` : ', no content-type';
}

/** The first error in the cause chain that `match`es. */
function findCause<T>(error: unknown, match: (cause: unknown) => cause is T): T | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (match(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
