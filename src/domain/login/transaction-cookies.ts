import type { SecretBox } from '../../crypto/secret-box.js';
import { hostnameOf, isWithinDomain } from './host-names.js';
import {
  MAX_PENDING_COOKIE_BYTES,
  MAX_PENDING_LOGINS,
  openTransaction,
  sealTransaction,
  stateOfCookieName,
  transactionCookieName,
  type LoginTransaction,
} from './login-transaction.js';

/** A Set-Cookie the browser routes apply: a value to set, or `maxAgeSeconds: 0` to clear. */
export interface CookieToSet {
  name: string;
  value: string;
  maxAgeSeconds: number;
  /** TENANT_DOMAIN, for logins that start on a tenant subdomain; host-only otherwise. */
  domain?: string;
}

/**
 * Where login transactions live in the browser (contract: "A browser holds at most 5 pending
 * logins … no request the broker causes ever carries more than 8 KB of its cookies").
 *
 * - Path `/`, so that starting a login sees the browser's other pending logins and can bound
 *   them; a cookie grown unbounded across tabs would make every later request fail with 431.
 * - Domain TENANT_DOMAIN when the request's host is within it (tenant subdomains must reach the
 *   callback on PUBLIC_URL's host), else host-only — and then `__Host-` when Secure.
 * - Starting a login drops the oldest pending ones (and any this key cannot open) until at most
 *   four remain beside the new one and all fit in MAX_PENDING_COOKIE_BYTES.
 */
export class TransactionCookies {
  constructor(
    private readonly deps: {
      secretBox: SecretBox;
      /** Secure cookies (PUBLIC_URL is https). */
      secure: boolean;
      /** TENANT_DOMAIN when PUBLIC_URL's host is it or below it; fixed by the configuration. */
      domain: string | undefined;
      /** Cookie lifetime: the transaction's, plus a minute so a late learner hears "expired". */
      maxAgeSeconds: number;
    },
  ) {}

  /** The Domain for a cookie set on `host`: TENANT_DOMAIN when the host is within it. */
  domainFor(host: string | undefined): string | undefined {
    const domain = this.deps.domain;
    if (domain === undefined || host === undefined) return undefined;
    return isWithinDomain(hostnameOf(host), domain) ? domain : undefined;
  }

  #name(state: string, domain: string | undefined): string {
    return transactionCookieName(state, this.deps.secure && domain === undefined);
  }

  /** The cookies a new login sets on `host`: its own, and clearings of the pending logins it displaces. */
  forNewLogin(
    tx: LoginTransaction,
    host: string | undefined,
    present: Record<string, string | undefined>,
  ): CookieToSet[] {
    const domain = this.domainFor(host);
    const own: CookieToSet = {
      name: this.#name(tx.state, domain),
      value: sealTransaction(this.deps.secretBox, tx),
      maxAgeSeconds: this.deps.maxAgeSeconds,
      ...(domain && { domain }),
    };
    const pending: { name: string; bytes: number; createdAt: number }[] = [];
    const drop: string[] = [];
    for (const [name, value] of Object.entries(present)) {
      const state = stateOfCookieName(name);
      if (state === undefined || value === undefined) continue;
      const found = openTransaction(this.deps.secretBox, state, value);
      if (found) pending.push({ name, bytes: name.length + value.length + 3, createdAt: found.createdAt });
      else drop.push(name);
    }
    // Newest first: keep while both bounds hold, counting the new login's cookie.
    pending.sort((a, b) => b.createdAt - a.createdAt);
    let count = 1;
    let bytes = own.name.length + own.value.length + 3;
    for (const cookie of pending) {
      if (count < MAX_PENDING_LOGINS && bytes + cookie.bytes <= MAX_PENDING_COOKIE_BYTES) {
        count += 1;
        bytes += cookie.bytes;
      } else {
        drop.push(cookie.name);
      }
    }
    return [...drop.map((name) => this.#clearing(name, domain)), own];
  }

  /**
   * The transaction a callback's `state` names, from this browser's cookies: only under the
   * name this host sets. Where that is `__Host-`, a plain `sso_tx_` cookie planted by a
   * sibling host (cookie tossing: an attacker's own sealed login, to sign the victim in as the
   * attacker) is ignored.
   */
  find(
    state: string,
    host: string | undefined,
    present: Record<string, string | undefined>,
  ): LoginTransaction | undefined {
    const sealed = present[this.#name(state, this.domainFor(host))];
    return sealed === undefined ? undefined : openTransaction(this.deps.secretBox, state, sealed);
  }

  /** Clears a finished transaction's cookie (one try per transaction, whatever the outcome). */
  finished(state: string, host: string | undefined): CookieToSet {
    const domain = this.domainFor(host);
    return this.#clearing(this.#name(state, domain), domain);
  }

  #clearing(name: string, domain: string | undefined): CookieToSet {
    return { name, value: '', maxAgeSeconds: 0, ...(domain && !name.startsWith('__Host-') && { domain }) };
  }
}
