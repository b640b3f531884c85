import { createRequire } from 'node:module';
import { parse } from 'tldts';
import { BrokerError } from '../../errors/broker-error.js';

/**
 * Free-mail providers: anyone can have an address there, so no tenant may claim one. The list
 * is the email-providers package's (derhuerst/email-providers: about 8,700 domains of webmail
 * and free email providers, maintained from several public lists), not a few names written here.
 */
const FREE_MAIL: ReadonlySet<string> = new Set(createRequire(import.meta.url)('email-providers/all.json') as string[]);

/**
 * Why a tenant may not claim `domain`, or undefined when it may: a public suffix (`com`,
 * `co.uk`, and private ones such as `github.io`: everyone's domains are below them, by the
 * Public Suffix List through tldts) or a free-mail provider's domain (`gmail.com`, `outlook.com`).
 */
export function domainProblem(domain: string): string | undefined {
  const parsed = parse(domain, { allowPrivateDomains: true });
  if (parsed.publicSuffix === domain || parsed.domain === null)
    return `${domain} is a public suffix: every organisation's domains are below it`;
  if (FREE_MAIL.has(domain) || (parsed.domain !== null && FREE_MAIL.has(parsed.domain)))
    return `${domain} is a free email provider's: anyone can have an address there`;
  return undefined;
}

/** 400 for the first domain no tenant may claim. */
export function assertClaimable(domains: readonly string[]): void {
  for (const domain of domains) {
    const problem = domainProblem(domain);
    if (problem) throw new BrokerError('invalid_request', { description: `${problem}.` });
  }
}
