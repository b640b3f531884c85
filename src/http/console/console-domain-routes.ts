import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainView } from '../../domain/domains/domain.service.js';
import { notFound } from '../../domain/not-found.js';
import { isBrokerError, type BrokerError } from '../../errors/broker-error.js';
import { confirmPage, isConfirmed } from './console-confirm.js';
import { domainAction } from './console-domains-page.js';
import type { RouteKit } from './console-routes.js';

type DomainReq = FastifyRequest<{
  Params: { slug: string; domain: string };
  Body: Record<string, unknown> | undefined;
}>;

/** A refusal the operator can act on (the TXT record not there yet, another tenant first): shown on the page. */
const shown = (error: unknown): error is BrokerError =>
  isBrokerError(error) && (error.code === 'not_verified' || error.code === 'conflict');

/**
 * A tenant's verified domains (contract v4): verify by DNS, mark verified without DNS (an
 * operator's word instead of the record's: confirmed first) and remove (confirmed first). Each
 * write is recorded as the admin API records it: resource `domain`, id `<slug>/<domain>`, a
 * forced verification with the field `force`.
 */
export function domainRoutes(app: FastifyInstance, kit: RouteKit) {
  const { deps, views, page, seeOther, chromeOf } = kit;
  const back = (slug: string) => `/console/tenants/${slug}#domains`;
  const done = (slug: string, code: string) => `/console/tenants/${slug}?done=${code}#domains`;
  /** The tenant's name and its claim of the domain; the console's 404 page for any other. */
  async function claimOf(slug: string, domain: string): Promise<{ name: string; claim: DomainView }> {
    const [tenant, { domains }] = await Promise.all([deps.tenants.get(slug), deps.domains.list(slug)]);
    const claim = domains.find((d) => d.domain === domain.toLowerCase());
    return { name: tenant.name, claim: claim ?? notFound('domain', domain) };
  }
  const record = (request: DomainReq, claim: DomainView, action: string, fields: string[]) =>
    views.record(request, 'domain', `${request.params.slug}/${claim.domain}`, action, fields);
  /** The tenant's page again, saying why (what the TXT lookup found, or who verified it first). */
  const refused = async (request: DomainReq, reply: FastifyReply, error: unknown) => {
    if (!shown(error)) throw error;
    const chrome = chromeOf(request, { error: error.description });
    return page(reply, error.status, await views.tenant(chrome, request.params.slug));
  };

  app.post('/console/tenants/:slug/domains/:domain/verify', async (request: DomainReq, reply) => {
    const { slug, domain } = request.params;
    try {
      const verified = await deps.domains.verify(slug, domain, {}, { mayForce: true });
      await record(request, verified, 'verify', []);
    } catch (error) {
      return refused(request, reply, error);
    }
    return seeOther(reply, done(slug, 'domain-verified'));
  });

  app.post('/console/tenants/:slug/domains/:domain/force', async (request: DomainReq, reply) => {
    const { slug, domain } = request.params;
    if (!isConfirmed(request.body)) {
      const { name, claim } = await claimOf(slug, domain);
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: `Mark ${claim.domain} verified without DNS?`,
          breaks:
            `Nothing has proved that ${name} controls ${claim.domain}. From now on, people whose address is at ` +
            `${claim.domain} are sent to ${name}’s sign-in, on every server, and any other tenant’s claim of it is ` +
            'dropped; it is never re-checked by DNS. Do it only when you know the domain is theirs: the change log ' +
            'records it as a forced verification, with your name.',
          action: domainAction(slug, claim.domain, 'force'),
          button: 'Mark verified without DNS',
          back: back(slug),
        }),
      );
    }
    try {
      const verified = await deps.domains.verify(slug, domain, { force: true }, { mayForce: true });
      await record(request, verified, 'verify', ['force']);
    } catch (error) {
      return refused(request, reply, error);
    }
    return seeOther(reply, done(slug, 'domain-forced'));
  });

  app.post('/console/tenants/:slug/domains/:domain/remove', async (request: DomainReq, reply) => {
    const { slug, domain } = request.params;
    const { name, claim } = await claimOf(slug, domain);
    if (!isConfirmed(request.body)) {
      const routed = claim.verified
        ? `People whose address is at ${claim.domain} are no longer sent to ${name}’s sign-in, at once on every ` +
          'server, and if its sign-in accepts only its own domains, they can no longer sign in through it. '
        : '';
      return page(
        reply,
        200,
        confirmPage(chromeOf(request), {
          title: `Remove ${claim.domain} from ${name}?`,
          breaks: `${routed}Added again later, it must be verified again, with a new TXT record.`,
          action: domainAction(slug, claim.domain, 'remove'),
          button: `Remove ${claim.domain}`,
          back: back(slug),
        }),
      );
    }
    await deps.domains.remove(slug, claim.domain);
    await record(request, claim, 'delete', []);
    return seeOther(reply, done(slug, 'domain-removed'));
  });
}
