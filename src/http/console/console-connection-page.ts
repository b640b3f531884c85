import type { ConnectionView } from '../../domain/connections/connection.view.js';
import type { VersionView } from '../../domain/connections/connection-version.service.js';
import type { SetupLinkView } from '../../domain/setup-links/setup-link.service.js';
import type { TenantView } from '../../domain/tenants/tenant.service.js';
import { html, type Html } from '../browser/html.js';
import { consolePage, csrfField, type Chrome } from './console-layout.js';
import { when } from '../browser/time.js';
import { freshLink, linksTable, newLinkForm } from './console-links.js';
import { versionTest } from './console-pages.js';

/** Why a draft cannot be activated yet, or undefined when it can. */
function activationBlocked(v: VersionView): string | undefined {
  if (v.status !== 'draft') return undefined;
  if (!v.lastTest) return 'Run a test sign-in first: a draft is activated only after a test sign-in passed.';
  if (!v.lastTest.ok) return 'The last test sign-in failed: fix the settings (a new draft) or test again.';
  return undefined;
}

function versionRow(chrome: Chrome, connectionId: string, v: VersionView): Html {
  const base = `/console/connections/${connectionId}/versions/${v.version}`;
  const blocked = activationBlocked(v);
  const label = `${v.status === 'retired' ? 'Roll back to' : 'Activate'} version ${v.version}`;
  const action =
    v.status === 'active'
      ? html`<span class="muted">active</span>`
      : blocked
        ? html`<button type="button" disabled aria-describedby="why-${v.version}">${label}</button>
<small id="why-${v.version}" class="muted">${blocked}</small>`
        : html`<form method="post" action="${base}/activate" class="inline">${csrfField(chrome)}
<button type="submit">${label}</button></form>`;
  const testForm = html`<form method="post" action="${base}/test-login" class="inline">${csrfField(chrome)}
<button type="submit">Test sign-in</button></form>`;
  return html`<tr><th scope="row">${v.version}</th><td>${v.status}</td><td>${v.createdBy}, ${when(v.createdAt)}</td>
<td><code>${v.issuer}</code><br><code>${v.clientId}</code> · ${v.tokenEndpointAuthMethod}
${v.hasClientSecret ? ' · secret set' : ''}</td>
<td>${versionTest(v)}</td><td>${action} ${testForm}</td></tr>`;
}

/** The operator's switches of a live connection: enabled, default. */
function switchesForm(chrome: Chrome, c: ConnectionView): Html {
  const box = (name: string, label: string, checked: boolean) =>
    html`<span><label for="s-${name}">${label}</label><input type="checkbox" id="s-${name}" name="${name}"
value="yes"${checked ? html` checked` : ''}></span>`;
  return html`<form method="post" action="/console/connections/${c.id}/settings">${csrfField(chrome)}<fieldset>
${box('enabled', 'Enabled (its tenant’s people can sign in with it)', c.enabled)}
${box('isDefault', 'Default connection of the tenant', c.isDefault)}
<button type="submit">Save switches</button></fieldset></form>`;
}

/** The connection's own ACR values: saved as a draft version, tested and activated like any setting. */
function acrForm(chrome: Chrome, c: ConnectionView): Html {
  return html`<form method="post" action="/console/connections/${c.id}/acr-values">${csrfField(chrome)}<fieldset>
<label for="acrValues">Required ACR values</label>
<input id="acrValues" name="acrValues" type="text" value="${c.acrValues.join(' ')}" aria-describedby="acr-hint">
<p class="hint" id="acr-hint">Space-separated, in the IdP’s own names: every sign-in asks for them (with the app’s
own) and is refused without one. Saved as a new draft version (replacing any draft), to test and activate below.</p>
<button type="submit">Save as a draft</button></fieldset></form>`;
}

/**
 * One connection: settings (never secrets), its switches, versions, setup links. A connection
 * still being onboarded (no active version) shows its versions and links only.
 */
export function connectionPage(
  chrome: Chrome,
  page: {
    connectionId: string;
    tenant: TenantView;
    connection: ConnectionView | undefined;
    versions: VersionView[];
    links: SetupLinkView[];
    newLink?: string | undefined;
  },
) {
  const c = page.connection;
  const id = page.connectionId;
  const newest = page.versions[0];
  const tenantLink = html`<a href="/console/tenants/${page.tenant.slug}">${page.tenant.name}</a>`;
  const settings: [string, Html | string][] = c
    ? [
        ['Tenant', tenantLink],
        ['Redirect URI', html`<code>${c.redirectUri}</code>`],
        ['Issuer', html`<code>${c.issuer}</code>`],
        ['Discovery URL', html`<code>${c.discoveryUrl}</code>`],
        ['Client id', html`<code>${c.clientId}</code>`],
        ['Client authentication', html`<code>${c.tokenEndpointAuthMethod}</code>`],
        ['Client secret', c.hasClientSecret ? 'set (never shown)' : 'none'],
        ['Subject claim', html`<code>${c.subjectClaim}</code>`],
        ['Scopes', html`<code>${['openid', 'email', 'profile', ...c.scopes].join(' ')}</code>`],
        ['Required ACR values', c.acrValues.length ? html`<code>${c.acrValues.join(' ')}</code>` : 'none'],
        ['Default / enabled', `${c.isDefault ? 'default' : 'not default'} / ${c.enabled ? 'enabled' : 'disabled'}`],
      ]
    : [
        ['Tenant', tenantLink],
        ['State', 'not active yet: nobody signs in with it until a tested draft is activated'],
      ];
  const live = c
    ? html`${switchesForm(chrome, c)}
${acrForm(chrome, c)}
<form method="post" action="/console/connections/${id}/validate" class="inline">${csrfField(chrome)}
<button type="submit">Validate</button></form>`
    : '';
  return consolePage(
    `Connection ${c?.issuer ?? newest?.issuer ?? id}`,
    chrome,
    html`<table>${settings.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</table>
${live}
<h2>Versions</h2><table><thead><tr><th scope="col">#</th><th scope="col">Status</th><th scope="col">Made by</th>
<th scope="col">IdP settings</th><th scope="col">Last test</th><th scope="col">Actions</th></tr></thead>
<tbody>${page.versions.map((v) => versionRow(chrome, id, v))}</tbody></table>
<h2>Setup links</h2>${freshLink(page.newLink)}
${linksTable(chrome, page.links, `/console/connections/${id}`)}
<h3>New setup link for this connection</h3>
${newLinkForm(chrome, `/console/connections/${id}/setup-links`, 'l')}
<p><a href="/console/logins?connection=${id}">Logins with this connection</a></p>`,
  );
}
