import { BrokerError } from '../../errors/broker-error.js';

/**
 * `return_to` must equal one of the app's registered URLs exactly: no prefix, host, case,
 * slash or percent-encoding leniency (RFC 9700 §4.1.3; OAuth 2.1 §7.5.3). Until it does, the
 * broker answers with a page and never redirects.
 */
export function assertReturnToRegistered(registered: readonly string[], returnTo: string): void {
  if (!registered.includes(returnTo)) throw new BrokerError('invalid_return_to');
}

/** The registered return URL with our parameters added; its own query parameters are kept. */
export function withParams(returnTo: string, params: Record<string, string | undefined>): string {
  const url = new URL(returnTo);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}
