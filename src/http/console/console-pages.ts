import type { ConnectionView } from '../../domain/connections/connection.view.js';
import type { DomainView } from '../../domain/domains/domain.service.js';
import type { VersionView } from '../../domain/connections/connection-version.service.js';
import type { ConnectionHealth } from '../../domain/audit/login-audit.repo.js';
import type { ExpiringCredential } from '../../domain/expiring/expiring-credentials.js';
import type { SetupLinkView } from '../../domain/setup-links/setup-link.service.js';
import type { TenantView } from '../../domain/tenants/tenant.service.js';
import { html, type Html } from '../browser/html.js';
import { formProblem, textField, type FormState } from './console-forms.js';
import { consolePage, csrfField, emptyState, type Chrome } from './console-layout.js';
import { lastTest } from '../browser/last-test.js';
import { when } from '../browser/time.js';
import { freshLink, linkState, linksTable, newLinkForm } from './console-links.js';
import { domainsSection } from './console-domains-page.js';

/**
 * A tenant slug's rule (tenant.schema.ts) for the browser to check: it compiles a pattern with
 * the `v` flag, where a `-` inside a class must be escaped, or the pattern is an error and
 * checks nothing.
 */
export const SLUG_PATTERN = String.raw`[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?`;

export interface ConnectionSummary {
  connection: ConnectionView;
  health: ConnectionHealth | undefined;
  /** Mean IdP token-endpoint latency seen by this replica, ms. */
  idpLatencyMs: number | undefined;
  expiring: ExpiringCredential[];
}

/** A connection being onboarded: no active version yet, its newest draft. */
export interface DraftSummary {
  connectionId: string;
  draft: VersionView;
}

/** What a tenant's page shows besides its overview: a refused form, a link made just now, its domains. */
export interface TenantPageOptions {
  form?: FormState | undefined;
  newLink?: string | undefined;
  domains?: DomainView[];
}

export interface TenantOverview {
  tenant: TenantView;
  connections: ConnectionSummary[];
  drafts: DraftSummary[];
  links: SetupLinkView[];
}

function healthCells(s: ConnectionSummary): Html {
  const h = s.health;
  const rate = h && h.logins > 0 ? `${Math.round((100 * h.successes) / h.logins)}%` : '—';
  const lastError = h?.lastError ? html`<code>${h.lastError}</code> ${when(h.lastErrorAt)}` : '—';
  const expiring = s.expiring.length
    ? html`<span class="bad">${s.expiring.map((e) => html`${e.kind.replace('_', ' ')} ${when(e.expiresAt)} `)}</span>`
    : '—';
  const latency = s.idpLatencyMs === undefined ? '—' : `${s.idpLatencyMs} ms`;
  return html`<td>${h?.logins ?? 0}</td><td>${rate}</td><td>${lastError}</td><td>${latency}</td><td>${expiring}</td>`;
}

/** A version's last test sign-in, in words (as the setup page says it). */
export const versionTest = (v: VersionView): Html => lastTest(v.version, v.lastTest);

const tenantCell = (tenant: TenantView) =>
  html`<th scope="row"><a href="/console/tenants/${tenant.slug}">${tenant.name}</a> <code>${tenant.slug}</code></th>`;

function overviewRows({ tenant, connections, drafts, links }: TenantOverview): Html[] {
  const rows = connections.map(
    (s) => html`<tr>${tenantCell(tenant)}
<td><a href="/console/connections/${s.connection.id}">${s.connection.issuer}</a></td>
<td>${s.connection.enabled ? 'enabled' : 'disabled'}</td>${healthCells(s)}</tr>`,
  );
  rows.push(
    ...drafts.map(
      (d) => html`<tr>${tenantCell(tenant)}
<td><a href="/console/connections/${d.connectionId}">${d.draft.issuer}</a></td>
<td>draft, not active yet</td><td colspan="5">${versionTest(d.draft)}</td></tr>`,
    ),
  );
  if (rows.length === 0) {
    const open = links.filter((l) => linkState(l) === 'unused' || linkState(l) === 'used').length;
    const next =
      open > 0
        ? html`${open} setup link${open === 1 ? '' : 's'} sent, no settings saved yet`
        : html`<a href="/console/tenants/${tenant.slug}">send its IT team a setup link</a>`;
    rows.push(html`<tr>${tenantCell(tenant)}<td colspan="7" class="muted">no connection yet: ${next}</td></tr>`);
  }
  return rows;
}

const DOMAINS = 'Email domains (comma-separated)';
/** The tenant page's domains field: each new domain in it is an unverified claim. */
const DOMAINS_FIELD = {
  id: 'e-domains',
  name: 'domains',
  label: DOMAINS,
  size: 40,
  hint: 'a new domain routes nobody until verified (below)',
};
const SLUG_FIELD = {
  id: 't-slug',
  name: 'slug',
  label: 'Slug',
  required: true,
  pattern: SLUG_PATTERN,
  hint: 'lowercase letters, digits and inner hyphens',
};

/** Tenants, each with its connections (health over the last 24 hours) and those being onboarded. */
export function tenantsPage(chrome: Chrome, tenants: TenantOverview[], form?: FormState) {
  const table =
    tenants.length === 0
      ? emptyState(
          'No tenant yet. A tenant is an organisation whose people sign in through its own identity provider: ' +
            'create one below, then send its IT team a setup link from its page.',
        )
      : html`<table><thead><tr><th scope="col">Tenant</th><th scope="col">Connection</th><th scope="col">State</th>
<th scope="col">Logins (24 h)</th><th scope="col">Success</th><th scope="col">Last error</th>
<th scope="col">IdP latency</th><th scope="col">Expiring soon</th></tr></thead>
<tbody>${tenants.flatMap(overviewRows)}</tbody></table>`;
  return consolePage(
    'Tenants',
    chrome,
    html`<p class="muted">Logins in the last 24 hours, by connection. Open a tenant to edit it and to onboard its
connection with a setup link; the admin API does everything else (<a href="/admin/reference/">reference</a>).</p>
${table}
<h2 id="new-tenant">New tenant</h2>${formProblem(form, 'The tenant was not created.')}
<form method="post" action="/console/tenants" aria-labelledby="new-tenant">${csrfField(chrome)}<fieldset>
${textField({ ...SLUG_FIELD, form })}
${textField({ id: 't-name', name: 'name', label: 'Name', form, required: true })}
${textField({ id: 't-domains', name: 'domains', label: DOMAINS, form })}
<button type="submit">Create tenant</button></fieldset></form>`,
  );
}

/** One tenant: its name and domains (editable), its connections, its setup links. */
export function tenantPage(chrome: Chrome, t: TenantOverview, options: TenantPageOptions = {}) {
  const { tenant } = t;
  const names = new Map<string, string>([
    ...t.connections.map((s) => [s.connection.id, s.connection.issuer] as [string, string]),
    ...t.drafts.map((d) => [d.connectionId, `${d.draft.issuer} (draft)`] as [string, string]),
  ]);
  const connections =
    names.size === 0
      ? emptyState(
          'No connection yet. Create a setup link below and send it to the tenant’s IdP engineer: they enter ' +
            'their identity provider’s settings, test a sign-in and activate it.',
        )
      : html`<ul>${t.connections.map(
          (s) => html`<li><a href="/console/connections/${s.connection.id}">${s.connection.issuer}</a>:
${s.connection.enabled ? 'enabled' : 'disabled'}${s.connection.isDefault ? ', default' : ''}</li>`,
        )}${t.drafts.map(
          (d) => html`<li><a href="/console/connections/${d.connectionId}">${d.draft.issuer}</a>: draft version
${d.draft.version}, not active yet; ${versionTest(d.draft)}</li>`,
        )}</ul>`;
  const form = options.form;
  return consolePage(
    `Tenant ${tenant.name}`,
    chrome,
    html`<p>Slug <code>${tenant.slug}</code> · created ${when(tenant.createdAt)}</p>
<h2>Name and email domains</h2>${formProblem(form, 'The tenant was not changed.')}
<form method="post" action="/console/tenants/${tenant.slug}">${csrfField(chrome)}<fieldset>
${textField({ id: 'e-name', name: 'name', label: 'Name', form, value: tenant.name, required: true })}
${textField({ ...DOMAINS_FIELD, form, value: tenant.domains.join(', ') })}
<button type="submit">Save tenant</button></fieldset></form>
${domainsSection(chrome, tenant.slug, options.domains ?? [])}
<h2>Connections</h2>${connections}
<h2>Setup links</h2>${freshLink(options.newLink)}
${linksTable(chrome, t.links, `/console/tenants/${tenant.slug}`, names)}
<h3>New setup link for a new connection</h3>
${newLinkForm(chrome, `/console/tenants/${tenant.slug}/setup-links`, 'l')}`,
  );
}
