import type { ChangeLog } from '../changes/change-log.service.js';
import type { DomainService, DomainView } from '../domains/domain.service.js';
import type { SetupContext } from './setup-context.js';

/**
 * A setup link's holder and their organisation's email domains (contract v4): they see the
 * tenant's claims, claim another, and verify one by its DNS TXT record — never by force. The
 * link proves who holds it, not who owns a domain; only publishing the record does, and
 * forcing stays the operators'. The context comes from SetupLinkService.open, so a link to
 * CONSOLE_TENANT does nothing here either. Each write is in the change log with the link as
 * actor (never its token), as its saves and activations are.
 */
export class SetupLinkDomains {
  constructor(
    private readonly deps: {
      domains: Pick<DomainService, 'list' | 'add' | 'verify'>;
      changes: Pick<ChangeLog, 'record'>;
      log: { info(obj: object, msg: string): void };
    },
  ) {}

  async list(context: SetupContext): Promise<DomainView[]> {
    return (await this.deps.domains.list(context.tenant.slug)).domains;
  }

  /** A new, unverified claim of `domain` for the link's tenant (400 for a free-mail domain or a public suffix). */
  async add(context: SetupContext, domain: unknown, address: string): Promise<DomainView> {
    const added = await this.deps.domains.add(context.tenant.slug, { domain });
    await this.#done(context, added.domain, 'create', ['domain'], address);
    return added;
  }

  /** Verifies by DNS only (`409 not_verified` says what the lookup found instead). */
  async verify(context: SetupContext, domain: string, address: string): Promise<DomainView> {
    const verified = await this.deps.domains.verify(context.tenant.slug, domain, {}, { mayForce: false });
    await this.#done(context, verified.domain, 'verify', [], address);
    return verified;
  }

  /** Logged with the link's id, and recorded as the admin API records the same write. */
  #done(context: SetupContext, domain: string, action: string, fields: string[], address: string) {
    this.deps.log.info(
      { setupLink: context.link.id, tenantId: context.tenant.id, domain, action: `domain ${action}` },
      `setup link: domain ${action}`,
    );
    return this.deps.changes.record({
      actor: `setup-link:${context.link.id}`,
      resource: 'domain',
      id: `${context.tenant.slug}/${domain}`,
      action,
      fields,
      address,
    });
  }
}
