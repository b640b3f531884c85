import type { ConnectionView } from '../../domain/connections/connection.view.js';
import type { VersionView } from '../../domain/connections/connection-version.service.js';
import type { ConnectionHealth } from '../../domain/audit/login-audit.repo.js';
import type { ExpiringCredential } from '../../domain/expiring/expiring-credentials.js';
import type { SetupLinkView } from '../../domain/setup-links/setup-link.service.js';
import type { TenantView } from '../../domain/tenants/tenant.service.js';
import { html, type Html } from '../browser/html.js';
import { consolePage, csrfField, when, type Chrome } from './console-layout.js';

/**
 * A tenant slug's rule (tenant.schema.ts) for the browser to check: it compiles a pattern with
 * the `v` flag, where a `-` inside a class must be escaped, or the pattern is an error and
 * checks nothing.
 */
const SLUG_PATTERN = String.raw`[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?`;

export interface ConnectionSummary {
  connection: ConnectionView;
  health: ConnectionHealth | undefined;
  /** Mean IdP token-endpoint latency seen by this replica, ms. */
  idpLatencyMs: number | undefined;
  expiring: ExpiringCredential[];
}

function healthCells(s: ConnectionSummary): Html {
  const h = s.health;
  const rate = h && h.logins > 0 ? `${Math.round((100 * h.successes) / h.logins)}%` : '—';
  const lastError = h?.lastError ? html`<code>${h.lastError}</code> at ${when(h.lastErrorAt)}` : '—';
  const expiring = s.expiring.length
    ? html`<span class="bad">${s.expiring.map((e) => `${e.kind.replace('_', ' ')} ${e.expiresAt.slice(0, 10)}`)}</span>`
    : '—';
  const latency = s.idpLatencyMs === undefined ? '—' : `${s.idpLatencyMs} ms`;
  return html`<td>${h?.logins ?? 0}</td><td>${rate}</td><td>${lastError}</td><td>${latency}</td><td>${expiring}</td>`;
}

/** Tenants, each with its connections and their health over the last 24 hours. */
export function tenantsPage(chrome: Chrome, tenants: { tenant: TenantView; connections: ConnectionSummary[] }[]) {
  const rows = tenants.flatMap(({ tenant, connections }) =>
    connections.length === 0
      ? [
          html`<tr><th scope="row">${tenant.name} <code>${tenant.slug}</code></th><td colspan="7" class="muted">
no connection yet</td></tr>`,
        ]
      : connections.map(
          (s) => html`<tr><th scope="row">${tenant.name} <code>${tenant.slug}</code></th>
<td><a href="/console/connections/${s.connection.id}">${s.connection.issuer}</a></td>
<td>${s.connection.enabled ? 'enabled' : 'disabled'}</td>${healthCells(s)}</tr>`,
        ),
  );
  return consolePage(
    'Tenants',
    chrome,
    html`<p class="muted">Logins in the last 24 hours, by connection. Onboard a tenant’s connection with a setup
link; the admin API does everything else (<a href="/admin/reference/">reference</a>).</p>
<table><thead><tr><th scope="col">Tenant</th><th scope="col">Connection</th><th scope="col">State</th>
<th scope="col">Logins (24 h)</th><th scope="col">Success</th><th scope="col">Last error</th>
<th scope="col">IdP latency</th><th scope="col">Expiring soon</th></tr></thead><tbody>${rows}</tbody></table>
<h2>New tenant</h2>
<form method="post" action="/console/tenants">${csrfField(chrome)}<fieldset>
<span><label for="t-slug">Slug</label><input id="t-slug" name="slug" required pattern="${SLUG_PATTERN}"></span>
<span><label for="t-name">Name</label><input id="t-name" name="name" required></span>
<span><label for="t-domains">Email domains (comma-separated)</label><input id="t-domains" name="domains"></span>
<button type="submit">Create tenant</button></fieldset></form>
<h2>Setup links</h2>
${tenants.map(
  ({ tenant }) => html`<form method="post" action="/console/tenants/${tenant.slug}/setup-links" class="inline">
${csrfField(chrome)}<button type="submit">New setup link for ${tenant.name}</button></form> `,
)}`,
  );
}

function versionRow(chrome: Chrome, connectionId: string, v: VersionView): Html {
  const base = `/console/connections/${connectionId}/versions/${v.version}`;
  const test = v.lastTest
    ? html`<span class="${v.lastTest.ok ? 'ok' : 'bad'}">${v.lastTest.ok ? 'passed' : 'failed'}
${when(v.lastTest.at)}</span>`
    : '—';
  const action =
    v.status === 'active'
      ? html`<span class="muted">active</span>`
      : html`<form method="post" action="${base}/activate" class="inline">${csrfField(chrome)}
<button type="submit">${v.status === 'retired' ? 'Roll back to' : 'Activate'} version ${v.version}</button></form>`;
  const testForm = html`<form method="post" action="${base}/test-login" class="inline">${csrfField(chrome)}
<button type="submit">Test sign-in</button></form>`;
  return html`<tr><th scope="row">${v.version}</th><td>${v.status}</td><td>${v.createdBy}, ${when(v.createdAt)}</td>
<td><code>${v.issuer}</code><br><code>${v.clientId}</code> · ${v.tokenEndpointAuthMethod}
${v.hasClientSecret ? ' · secret set' : ''}</td>
<td>${test}</td><td>${action} ${testForm}</td></tr>`;
}

/** One connection: settings (never secrets), versions, setup links. */
export function connectionPage(
  chrome: Chrome,
  c: ConnectionView,
  versions: VersionView[],
  links: SetupLinkView[],
  newLink?: string,
) {
  const settings: [string, string][] = [
    ['Tenant', c.tenant],
    ['Redirect URI', c.redirectUri],
    ['Issuer', c.issuer],
    ['Discovery URL', c.discoveryUrl],
    ['Client id', c.clientId],
    ['Client authentication', c.tokenEndpointAuthMethod],
    ['Client secret', c.hasClientSecret ? 'set (never shown)' : 'none'],
    ['Subject claim', c.subjectClaim],
    ['Scopes', ['openid', 'email', 'profile', ...c.scopes].join(' ')],
    ['Default / enabled', `${c.isDefault ? 'default' : 'not default'} / ${c.enabled ? 'enabled' : 'disabled'}`],
  ];
  const linkRows = links.map(
    (l) => html`<tr><td><code>${l.id}</code></td><td>${l.note ?? ''}</td><td>${when(l.createdAt)}</td>
<td>${when(l.expiresAt)}</td>
<td>${l.revokedAt ? `revoked ${when(l.revokedAt)}` : l.usedAt ? 'opened' : 'not opened'}</td>
<td>${
      l.revokedAt
        ? ''
        : html`<form method="post" action="/console/setup-links/${l.id}/revoke" class="inline">
${csrfField(chrome)}<input type="hidden" name="connection" value="${c.id}"><button type="submit">Revoke</button></form>`
    }</td></tr>`,
  );
  const fresh = newLink
    ? html`<div class="box good" role="status">
<p><label for="new-link">New setup link (shown once: copy it now)</label></p>
<input id="new-link" class="copy" readonly value="${newLink}"></div>`
    : '';
  return consolePage(
    `Connection ${c.issuer}`,
    chrome,
    html`<table>${settings.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><code>${v}</code></td></tr>`)}</table>
<form method="post" action="/console/connections/${c.id}/validate" class="inline">${csrfField(chrome)}
<button type="submit">Validate</button></form>
<h2>Versions</h2><table><thead><tr><th scope="col">#</th><th scope="col">Status</th><th scope="col">Made by</th>
<th scope="col">IdP settings</th><th scope="col">Last test</th><th scope="col">Actions</th></tr></thead>
<tbody>${versions.map((v) => versionRow(chrome, c.id, v))}</tbody></table>
<h2>Setup links</h2>${fresh}
<form method="post" action="/console/connections/${c.id}/setup-links">${csrfField(chrome)}
<button type="submit">Create a setup link</button></form>
<table><thead><tr><th scope="col">Id</th><th scope="col">Note</th><th scope="col">Created</th>
<th scope="col">Expires</th>
<th scope="col">State</th><th scope="col">Action</th></tr></thead><tbody>${linkRows}</tbody></table>`,
  );
}
