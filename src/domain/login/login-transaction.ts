import type { SecretBox } from '../../crypto/secret-box.js';

/**
 * A login in flight, sealed (AES-256-GCM, SECRET_KEY) into an HttpOnly cookie named after
 * its state: the browser that started the login is the only one that can finish it, nothing
 * is written to the database until a ticket is minted, and several tabs can sign in at once.
 */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  appId: string;
  returnTo: string;
  appState?: string | undefined;
  tenantId: string;
  /** For metrics labels and logs. */
  tenantSlug: string;
  connectionId: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** A test login (POST /admin/connections/:id/test-login): no app, ends on a diagnostics page. */
  test?: boolean;
  /** The cookie's Domain when it was set for TENANT_DOMAIN (to clear it the same way). */
  cookieDomain?: string;
}

export const TRANSACTION_COOKIE_PREFIX = 'sso_tx_';

export function transactionCookieName(state: string): string {
  return `${TRANSACTION_COOKIE_PREFIX}${state}`;
}

const purpose = (state: string) => `login-transaction:${state}`;

export function sealTransaction(box: SecretBox, tx: LoginTransaction): string {
  return box.seal(JSON.stringify(tx), purpose(tx.state));
}

/** Undefined when the cookie was tampered with, made for another state, or sealed with an unknown key. */
export function openTransaction(box: SecretBox, state: string, sealed: string): LoginTransaction | undefined {
  const json = box.open(sealed, purpose(state));
  if (json === undefined) return undefined;
  const tx = JSON.parse(json) as LoginTransaction;
  return tx.state === state ? tx : undefined;
}
