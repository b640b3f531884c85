import { Resolver } from 'node:dns/promises';

/** Where a domain's verification record lives, and what it must say. */
export const TXT_PREFIX = '_sso-broker-challenge.';
export const txtRecord = (domain: string, token: string) => ({
  name: `${TXT_PREFIX}${domain}`,
  value: `sso-broker-domain-verification=${token}`,
});

export type TxtLookup = { found: string[] } | { error: string };

/**
 * TXT lookups for domain verification, through DNS_SERVERS (or the system's resolvers): a
 * record's strings are joined, as RFC 7208 §3.3 does for long values. Bounded: 3 s a try, 2
 * tries. Answers what was found, or why nothing was, in words an IdP engineer can act on.
 */
export class DnsTxt {
  readonly #resolver = new Resolver({ timeout: 3_000, tries: 2 });

  constructor(servers: readonly string[] = []) {
    if (servers.length > 0) this.#resolver.setServers([...servers]);
  }

  async lookup(name: string): Promise<TxtLookup> {
    try {
      return { found: (await this.#resolver.resolveTxt(name)).map((chunks) => chunks.join('')) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return { found: [] };
      return {
        error: code === 'ETIMEOUT' ? 'the DNS servers did not answer' : `DNS lookup failed (${code ?? 'error'})`,
      };
    }
  }
}
