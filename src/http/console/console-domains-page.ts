import type { DomainView } from '../../domain/domains/domain.service.js';
import { html, type Html } from '../browser/html.js';
import { when } from '../browser/time.js';
import { csrfField, emptyState, type Chrome } from './console-layout.js';

/** Where a tenant's domain actions post: `/console/tenants/<slug>/domains/<domain>/<action>`. */
export const domainAction = (slug: string, domain: string, action: 'verify' | 'force' | 'remove') =>
  `/console/tenants/${slug}/domains/${domain}/${action}`;

/** One button in its own form (the console runs no script: each action is a POST). */
const button = (chrome: Chrome, action: string, label: string) =>
  html`<form method="post" action="${action}" class="inline">${csrfField(chrome)}
<button type="submit">${label}</button></form>`;

function domainRow(chrome: Chrome, slug: string, d: DomainView): Html {
  const remove = button(chrome, domainAction(slug, d.domain, 'remove'), 'Remove');
  if (d.verified) {
    return html`<tr><th scope="row"><code>${d.domain}</code></th><td class="ok">verified ${when(d.verifiedAt)}</td>
<td>—</td><td>${remove}</td></tr>`;
  }
  return html`<tr><th scope="row"><code>${d.domain}</code></th><td class="bad">not verified</td>
<td>TXT <code>${d.txt.name}</code><br><code>${d.txt.value}</code></td>
<td>${button(chrome, domainAction(slug, d.domain, 'verify'), 'Verify by DNS')}
${button(chrome, domainAction(slug, d.domain, 'force'), 'Mark verified without DNS')} ${remove}</td></tr>`;
}

/**
 * A tenant's email domains with their state: verified (since when), or not, with the TXT record
 * that proves it; the actions of the admin API's domain routes. Claims are added with the
 * tenant's domains field (above it on the page).
 */
export function domainsSection(chrome: Chrome, slug: string, domains: DomainView[]): Html {
  const table =
    domains.length === 0
      ? emptyState(
          'No email domain. Add the domains of its people’s addresses in the field above: each is a claim until ' +
            'verified, by DNS (from here or the IT team’s setup link) or marked verified here.',
        )
      : html`<table><thead><tr><th scope="col">Domain</th><th scope="col">State</th>
<th scope="col">TXT record to publish</th><th scope="col">Actions</th></tr></thead>
<tbody>${domains.map((d) => domainRow(chrome, slug, d))}</tbody></table>`;
  return html`<h2 id="domains">Verified email domains</h2>
<p class="muted">A verified domain sends people whose address is there to this tenant’s sign-in when an app asks by
email, and counts for <code>restrictToDomains</code>; an unverified one routes nobody. The first tenant to verify a
domain keeps it.</p>
${table}`;
}
