import { Counter, type Registry } from 'prom-client';
import type { Events } from '../events/events.service.js';
import { inBackground } from '../housekeeping.js';
import { txtRecord, type DnsTxt } from './dns-txt.js';
import type { DomainRepo } from './domain.repo.js';

/**
 * Re-verification (contract v4): a domain verified by DNS is not trusted forever. Once a day
 * its TXT record is looked up again; when it is missing (or says something else) twice in a
 * row, the domain is unverified — it routes nobody and stops counting for restrictToDomains —
 * and the operator is told: a warning in the log, `sso_domains_unverified_total`, and the
 * event domain.unverified. A lookup that gets no answer (the DNS servers away) counts for
 * nothing. Forced and migrated domains have no record to look for and are not re-checked.
 * Runs hourly on every replica; each due domain is taken by one (domain.repo.ts takeDue).
 */
export class DomainRecheck {
  readonly #unverified: Counter;

  constructor(
    private readonly deps: {
      repo: Pick<DomainRepo, 'takeDue' | 'recordCheck'>;
      dns: Pick<DnsTxt, 'lookup'>;
      events: Pick<Events, 'emit'>;
      registry: Registry;
      /** Tells every broker process the configuration changed (live config). */
      announce?: () => void;
      log: { warn(obj: object, msg: string): void };
    },
  ) {
    this.#unverified = new Counter({
      name: 'sso_domains_unverified_total',
      help: 'Verified domains unverified because their TXT record was missing twice in a row',
      registers: [deps.registry],
    });
  }

  /** Checks what is due now; returns how many domains it unverified. */
  async run(): Promise<number> {
    let unverified = 0;
    for (const claim of await this.deps.repo.takeDue(50)) {
      const { name, value } = txtRecord(claim.domain, claim.token);
      const answer = await this.deps.dns.lookup(name);
      if ('error' in answer) continue;
      const found = answer.found.includes(value);
      // Unverified and its event stored in one transaction.
      const unverifiedNow = await this.deps.events.emit(async (sql) => {
        const gone = await this.deps.repo.recordCheck(sql, claim.tenantId, claim.domain, found);
        const data = { tenant: claim.tenantSlug, domain: claim.domain };
        return { result: gone, events: gone ? [{ type: 'domain.unverified' as const, data }] : [] };
      });
      if (!unverifiedNow) continue;
      unverified += 1;
      this.#unverified.inc();
      this.deps.log.warn(
        { tenant: claim.tenantSlug, domain: claim.domain },
        'domain unverified: its TXT record was missing twice in a row; it routes nobody until verified again',
      );
      this.deps.announce?.();
    }
    return unverified;
  }

  /** Hourly, from a minute after start; returns the stop function. */
  start(firstAfterMs = 60_000): () => void {
    const run = () =>
      this.run().catch((error: unknown) =>
        this.deps.log.warn({ reason: (error as Error).message }, 'domain re-verification failed; will retry'),
      );
    return inBackground(run, { firstAfterMs, everyMs: 3_600_000 });
  }
}
