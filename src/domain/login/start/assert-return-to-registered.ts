import { BrokerError } from '../../../errors/broker-error.js';

/**
 * Guarantees: `return_to` equals one of the app's registered URLs exactly — no prefix, host,
 * case, slash or percent-encoding leniency (RFC 9700 §4.1.3; OAuth 2.1 §7.5.3). Until it
 * does, the broker answers with a page and never redirects. Logout applies the same rule.
 */
export function assertReturnToRegistered(registered: readonly string[], returnTo: string): void {
  if (!registered.includes(returnTo)) throw new BrokerError('invalid_return_to');
}
