import { z } from 'zod';
import { BrokerError } from '../../errors/broker-error.js';
import type { Events } from '../events/events.service.js';
import { notFound } from '../not-found.js';
import type { Tenant } from '../tenants/tenant.repo.js';
import { domainSchema } from '../tenants/tenant.schema.js';
import { parseInput } from '../validation.js';
import { txtRecord, type DnsTxt } from './dns-txt.js';
import { assertClaimable } from './domain-policy.js';
import { MAX_CLAIMS, type DomainClaim, type DomainRepo } from './domain.repo.js';

export const addDomainSchema = z.strictObject({ domain: domainSchema });
export const verifyDomainSchema = z.strictObject({
  force: z.boolean().optional().describe('Admin only: verified without DNS, recorded in the change log'),
});

/** A claim as the admin API and the setup link show it. */
export function toDomainView(claim: DomainClaim) {
  return {
    domain: claim.domain,
    verified: claim.verified,
    ...(claim.verifiedAt && { verifiedAt: claim.verifiedAt.toISOString() }),
    txt: txtRecord(claim.domain, claim.token),
  };
}
export type DomainView = ReturnType<typeof toDomainView>;

/**
 * Verified domains (contract v4): a tenant claims a domain, proves it with a TXT record at
 * `_sso-broker-challenge.<domain>` whose value is exactly `sso-broker-domain-verification=<token>`
 * (or an admin forces it), and only then does the domain route learners and count for
 * restrictToDomains. The first tenant to verify a domain wins: the others' claims are dropped,
 * and a verified domain is refused to everyone else. Public suffixes and free-mail domains are
 * refused to all (domain-policy.ts).
 */
export class DomainService {
  constructor(
    private readonly deps: {
      tenants: { require(slug: string): Promise<Tenant> };
      repo: DomainRepo;
      dns: Pick<DnsTxt, 'lookup'>;
      events: Pick<Events, 'emitIn'>;
      /** Tells every broker process the configuration changed (live config). */
      announce?: () => void;
    },
  ) {}

  async list(slug: string): Promise<{ domains: DomainView[] }> {
    const tenant = await this.deps.tenants.require(slug);
    return { domains: (await this.deps.repo.list(tenant.id)).map(toDomainView) };
  }

  /** A new claim, unverified, with its TXT record. */
  async add(slug: string, body: unknown): Promise<DomainView> {
    const { domain } = parseInput(addDomainSchema, body);
    const tenant = await this.deps.tenants.require(slug);
    assertClaimable([domain]);
    const claim = await this.deps.repo.claim(tenant.id, domain);
    if (!claim) {
      // The claim's own guards held it back: say which.
      if ((await this.deps.repo.verifiedElsewhere([domain], tenant.id)).length > 0)
        throw new BrokerError('conflict', { description: `${domain} is verified by another organisation.` });
      if ((await this.deps.repo.count(tenant.id)) >= MAX_CLAIMS)
        throw new BrokerError('conflict', { description: `A tenant holds at most ${MAX_CLAIMS} domains.` });
      throw new BrokerError('conflict', { description: `${domain} is already one of this tenant's domains.` });
    }
    this.deps.announce?.();
    return toDomainView(claim);
  }

  /**
   * Verifies by DNS, or with `force` (admins only: the setup link never passes it). 409
   * not_verified says what the TXT lookup found instead.
   */
  async verify(slug: string, domain: string, body: unknown, options: { mayForce: boolean }): Promise<DomainView> {
    const { force } = parseInput(verifyDomainSchema, body ?? {});
    if (force && !options.mayForce) throw new BrokerError('invalid_request', { description: 'force is for admins.' });
    const tenant = await this.deps.tenants.require(slug);
    const claim = await this.deps.repo.find(tenant.id, domain.toLowerCase());
    if (!claim) {
      if ((await this.deps.repo.verifiedElsewhere([domain.toLowerCase()], tenant.id)).length > 0)
        throw new BrokerError('conflict', { description: `${domain} was verified by another organisation first.` });
      notFound('domain', domain);
    }
    if (claim.verified) return toDomainView(claim);
    if (!force) await this.#assertTxt(claim);
    // The event is stored in the transaction that verifies the domain.
    const event = { tenant: tenant.slug, domain: claim.domain, method: force ? 'force' : 'dns' };
    let committed = () => {};
    const verified = await this.deps.repo.verify(tenant.id, claim.domain, force ? 'force' : 'dns', async (sql) => {
      committed = await this.deps.events.emitIn(sql, [{ type: 'domain.verified', data: event }]);
    });
    if (verified === 'taken')
      throw new BrokerError('conflict', { description: `${claim.domain} was verified by another organisation first.` });
    if (!verified) notFound('domain', domain);
    committed();
    this.deps.announce?.();
    return toDomainView(verified.claim);
  }

  async remove(slug: string, domain: string): Promise<void> {
    const tenant = await this.deps.tenants.require(slug);
    if (!(await this.deps.repo.remove(tenant.id, domain.toLowerCase()))) notFound('domain', domain);
    this.deps.announce?.();
  }

  async #assertTxt(claim: DomainClaim): Promise<void> {
    const { name, value } = txtRecord(claim.domain, claim.token);
    const answer = await this.deps.dns.lookup(name);
    if ('error' in answer)
      throw new BrokerError('not_verified', {
        description: `No answer for the TXT record at ${name}: ${answer.error}.`,
      });
    if (answer.found.includes(value)) return;
    const found = answer.found.length
      ? `found ${answer.found.map((record) => JSON.stringify(record.slice(0, 200))).join(', ')}`
      : 'found no TXT record there';
    throw new BrokerError('not_verified', {
      description: `The TXT record at ${name} must be exactly ${value}; ${found}.`,
    });
  }
}
