import { BrokerError } from '../../../errors/broker-error.js';
import { acrHash } from '../login-transaction.js';

/**
 * Guarantees (contract v4, step-up): when the login sent `acr_values` (the app's, the
 * connection's, or both), the ID token's `acr` is one of them. An IdP that ignored the request,
 * sent no `acr`, or a weaker one, gets no ticket: `acr_not_satisfied`, back to the app, which
 * may then ask again or offer another way. Returns the `acr` that satisfied it.
 */
export function assertAcrSatisfied(claims: Record<string, unknown>, acrHashes: readonly string[]): string {
  const acr = claims.acr;
  if (typeof acr === 'string' && acrHashes.includes(acrHash(acr))) return acr;
  throw new BrokerError('acr_not_satisfied', {
    logMessage:
      typeof acr === 'string'
        ? `the ID token's acr ${JSON.stringify(acr.slice(0, 200))} is not one of the values asked for`
        : 'the ID token has no acr, and ACR values were asked for',
  });
}
