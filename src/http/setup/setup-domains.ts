import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DomainView } from '../../domain/domains/domain.service.js';
import type { SetupLinkDomains } from '../../domain/setup-links/setup-link-domains.js';
import type { SetupContext } from '../../domain/setup-links/setup-link.service.js';
import { isBrokerError } from '../../errors/broker-error.js';
import { html, type Html } from '../browser/html.js';
import { humanTime } from '../browser/time.js';
import { csrfField } from './setup-forms.js';
import { copy, type SetupPageModel } from './setup-page.js';
import type { SetupDeps } from './setup.plugin.js';

/** What the setup page does with its tenant's email domains. */
export type SetupDomains = Pick<SetupLinkDomains, 'list' | 'add' | 'verify'>;

/** The page's domain fields: the tenant's claims, whether its sign-in takes only those, the query after a redirect. */
export async function domainModel(domains: SetupDomains, context: SetupContext, query: unknown) {
  return {
    domains: await domains.list(context),
    restrictToDomains: context.tenant.restrictToDomains,
    domainsAfter: (query ?? {}) as Record<string, unknown>,
  };
}

/** What a domain action did: a notice after its redirect, or why it was refused (with what was typed). */
export interface DomainResult {
  ok: boolean;
  text: string;
  typed?: string;
}

type DomainRequest = FastifyRequest<{
  Params: { token: string; domain?: string };
  Body: Record<string, unknown> | undefined;
}>;

/** What the domain routes need of the setup page's plugin: its services, page and form check. */
export interface DomainRouteKit {
  deps: Pick<SetupDeps, 'setupLinks' | 'domains'>;
  render(
    reply: FastifyReply,
    status: number,
    context: SetupContext,
    extra: { domainResult: DomainResult },
  ): Promise<FastifyReply>;
  assertForm(request: DomainRequest, context: SetupContext): void;
  seeOther(reply: FastifyReply, location: string): FastifyReply;
}

/** The refusals the holder can act on (shown in the section); anything else is the error page. */
const SHOWN = new Set(['invalid_request', 'conflict', 'not_verified']);

/** A refusal in the holder's words: a malformed name says what a domain is; the others say why. */
function refusal(error: unknown, typed: string | undefined): DomainResult {
  if (!isBrokerError(error) || !SHOWN.has(error.code)) throw error;
  const malformed = error.code === 'invalid_request' && Array.isArray(error.details) && error.details.length > 0;
  const text = malformed
    ? `“${typed ?? ''}” is not a domain name: enter what comes after the @ in your people’s addresses, such as ` +
      'example.org.'
    : error.code === 'invalid_request'
      ? `${error.description} Only your organisation’s own domains can be added.`
      : error.description;
  return { ok: false, text, ...(typed !== undefined && { typed }) };
}

/**
 * The holder's domain actions: claim a domain (`POST …/domains`), verify one by DNS (`POST
 * …/domains/<domain>/verify`). Never by force: the route passes no body, and the service is told
 * the holder may not (SetupLinkDomains). Success redirects to the section (`?added=` or
 * `?verified=`, shown only when true of the domain); a refusal shows the page again, saying why.
 */
export function setupDomainRoutes(app: FastifyInstance, kit: DomainRouteKit) {
  const { deps, render, assertForm, seeOther } = kit;
  const back = (token: string, what: string, domain: string) =>
    `/setup/${token}?${new URLSearchParams({ [what]: domain }).toString()}#domains`;
  app.post('/setup/:token/domains', async (request: DomainRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    const typed = typeof request.body?.domain === 'string' ? request.body.domain : undefined;
    try {
      const added = await deps.domains.add(context, typed, request.ip);
      return seeOther(reply, back(request.params.token, 'added', added.domain));
    } catch (error) {
      const domainResult = refusal(error, typed);
      return render(reply, isBrokerError(error) ? error.status : 400, context, { domainResult });
    }
  });
  app.post('/setup/:token/domains/:domain/verify', async (request: DomainRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    try {
      const verified = await deps.domains.verify(context, request.params.domain ?? '', request.ip);
      return seeOther(reply, back(request.params.token, 'verified', verified.domain));
    } catch (error) {
      const domainResult = refusal(error, undefined);
      return render(reply, isBrokerError(error) ? error.status : 400, context, { domainResult });
    }
  });
}

/** The notice after a redirect, only when the query says what is true of the domain now. */
function afterRedirect(m: SetupPageModel): DomainResult | undefined {
  const { added, verified } = m.domainsAfter ?? {};
  const claim = (name: unknown) => m.domains.find((d) => d.domain === name);
  if (claim(verified)?.verified) {
    return { ok: true, text: `${String(verified)} is verified: people with addresses there are sent to this sign-in.` };
  }
  const fresh = claim(added);
  if (fresh && !fresh.verified) {
    return { ok: true, text: `${fresh.domain} is added. Publish its TXT record below, then verify it.` };
  }
  return undefined;
}

function claimItem(m: SetupPageModel, d: DomainView): Html {
  if (d.verified) {
    const since = d.verifiedAt ? html` on ${humanTime(d.verifiedAt, 'day')}` : '';
    return html`<li><strong>${d.domain}</strong>: <span class="ok">✓ verified${since}</span></li>`;
  }
  return html`<li><strong>${d.domain}</strong>: <span class="bad">not verified yet</span>. Publish this TXT record
in the DNS of ${d.domain}, then verify it (DNS changes can take a few minutes to show):
<table>
<tr><th scope="row">Name</th><td>${copy(d.txt.name)}</td></tr>
<tr><th scope="row">Type</th><td><code>TXT</code></td></tr>
<tr><th scope="row">Value</th><td>${copy(d.txt.value)}</td></tr>
</table>
<form method="post" action="${m.base}/domains/${d.domain}/verify#domains">${csrfField(m)}
<button type="submit">Verify ${d.domain}</button></form></li>`;
}

/**
 * "Your organisation's email domains": the tenant's claims with their state, the TXT record of
 * each unverified one with a Verify button, and a form to claim another. Why it matters, in a
 * sentence: a verified domain routes people to this sign-in; until then, nothing routes.
 */
export function domainsSection(m: SetupPageModel): Html {
  const result = m.domainResult ?? afterRedirect(m);
  const box =
    result &&
    (result.ok
      ? html`<p class="box good" role="status">${result.text}</p>`
      : html`<p class="box err" role="alert">${result.text}</p>`);
  const restricted =
    m.restrictToDomains && html` Your sign-in also accepts only addresses at verified domains, so verify every one.`;
  const list = m.domains.length
    ? html`<ul>${m.domains.map((d) => claimItem(m, d))}</ul>`
    : html`<p class="hint">No domain yet: add the one in your people’s email addresses below.</p>`;
  return html`<section id="domains" aria-labelledby="domains-h">
<h2 id="domains-h">Your organisation’s email domains</h2>
<p>When an app asks by email address, people whose address is at a verified domain are sent to
${m.tenantName}’s sign-in. Until a domain is verified by its DNS record, it sends nobody anywhere.${restricted}</p>
${box}${list}
<form method="post" action="${m.base}/domains#domains">${csrfField(m)}
<label for="domain">Add a domain</label>
<input id="domain" name="domain" type="text" required value="${result?.ok ? '' : (result?.typed ?? '')}"
aria-describedby="domain-hint" autocomplete="off" spellcheck="false">
<p class="hint" id="domain-hint">What comes after the @, such as <code>example.org</code>. Free email providers’ domains
and public suffixes cannot be added.</p>
<button type="submit">Add domain</button></form></section>`;
}
