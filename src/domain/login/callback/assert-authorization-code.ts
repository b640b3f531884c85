import { BrokerError } from '../../../errors/broker-error.js';

/**
 * Guarantees: the IdP answered the authorization request with a code (OpenID Connect Core
 * §3.1.2.5); an `error` it sent becomes `access_denied` or `idp_error`, and none of its text
 * but a well-formed error code reaches the learner.
 */
export function assertAuthorizationCode(query: Record<string, unknown>): void {
  if (query.error !== undefined) throw idpReportedError(query.error);
  if (typeof query.code !== 'string')
    throw new BrokerError('idp_error', { description: 'The identity provider sent no code.' });
}

function idpReportedError(error: unknown): BrokerError {
  if (error === 'access_denied') return new BrokerError('access_denied');
  const code = typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? error : 'unknown';
  return new BrokerError('idp_error', { description: `The identity provider returned an error (${code}).` });
}
