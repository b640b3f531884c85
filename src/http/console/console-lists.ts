import type { AppView } from '../../domain/apps/app.service.js';
import type { LoginAttemptRow } from '../../domain/audit/login-audit.repo.js';
import type { ChangeRow } from '../../domain/changes/change-log.repo.js';
import { html, type Html } from '../browser/html.js';
import { everyTenantBox, formProblem, textField, type FormState } from './console-forms.js';
import { consolePage, csrfField, emptyState, type Chrome } from './console-layout.js';
import { when } from '../browser/time.js';

/** The tenant filter's value for attempts that failed before a tenant was known (no slug has parentheses). */
export const NO_TENANT = '(none)';

/** Names and pages of what the lists mention by id. */
export interface Directory {
  /** By slug. */
  tenants: Map<string, { name: string }>;
  /** By id: its label (the issuer) and tenant slug. */
  connections: Map<string, { label: string; tenant: string }>;
  apps: Map<string, AppView>;
  /** Setup links by id: their tenant slug and note. */
  links: Map<string, { tenant: string; note: string | undefined }>;
}

export const tenantName = (dir: Directory, slug: string) =>
  html`<a href="/console/tenants/${slug}">${dir.tenants.get(slug)?.name ?? slug}</a>`;
const connectionName = (dir: Directory, id: string) =>
  html`<a href="/console/connections/${id}">${dir.connections.get(id)?.label ?? 'a deleted connection'}</a>`;
const appName = (dir: Directory, id: string) =>
  html`<a href="/console/apps#app-${id}">${dir.apps.get(id)?.name ?? 'a deleted app'}</a>`;

const URLS = { name: 'returnUrls', label: 'Return URLs (comma-separated)', required: true, size: 50 };
const TENANTS = { name: 'tenants', label: 'Tenants (comma-separated)' };

/** One app's edit form, folded (no script: <details>). */
function appEdit(chrome: Chrome, a: AppView, form: FormState | undefined): Html {
  const prefix = `a-${a.id.slice(0, 8)}`;
  return html`<details${form ? html` open` : ''}><summary>Edit ${a.name}</summary>
${formProblem(form, 'The app was not changed.')}
<form method="post" action="/console/apps/${a.id}" aria-label="Edit ${a.name}">${csrfField(chrome)}<fieldset>
${textField({ ...URLS, id: `${prefix}-urls`, form, value: a.returnUrls.join(', ') })}
${textField({ ...TENANTS, id: `${prefix}-tenants`, form, value: a.tenants?.join(', ') ?? '' })}
${everyTenantBox(`${prefix}-every`, form, a.tenants === null)}
<button type="submit">Save ${a.name}</button></fieldset></form></details>`;
}

/** Apps: return URLs, allowed tenants (editable), rotate secret (confirmed first; the new one shown once). */
export function appsPage(
  chrome: Chrome,
  dir: Directory,
  options: {
    rotated?: { app: string; secret: string } | undefined;
    form?: FormState | undefined;
    /** The app whose edit form `form` is; none: the new-app form. */
    editing?: string | undefined;
  } = {},
) {
  const { rotated, form, editing } = options;
  const apps = [...dir.apps.values()];
  const secret = rotated
    ? html`<div class="box good" role="status"><p><label for="new-secret">Secret of app
${dir.apps.get(rotated.app)?.name ?? rotated.app} (shown once: copy it now; any older one no longer works)</label></p>
<input id="new-secret" class="copy" readonly value="${rotated.secret}"></div>`
    : '';
  const rows = apps.map(
    (a) => html`<tr id="app-${a.id}"><th scope="row">${a.name}<br><code>${a.id}</code></th>
<td>${a.returnUrls.map((u) => html`<code>${u}</code><br>`)}</td>
<td>${a.tenants ? a.tenants.map((slug, i) => html`${i > 0 ? ', ' : ''}${tenantName(dir, slug)}`) : 'every tenant'}
${appEdit(chrome, a, editing === a.id ? form : undefined)}</td>
<td><form method="post" action="/console/apps/${a.id}/rotate-secret" class="inline">${csrfField(chrome)}
<button type="submit">Rotate secret of ${a.name}</button></form></td></tr>`,
  );
  const table =
    apps.length === 0
      ? emptyState(
          'No app yet. An app is a learning system that sends its learners here to sign in: create it below with ' +
            'the return URLs it receives tickets on; its secret is shown once.',
        )
      : html`<table><thead><tr><th scope="col">App</th><th scope="col">Return URLs</th>
<th scope="col">Tenants</th><th scope="col">Secret</th></tr></thead><tbody>${rows}</tbody></table>`;
  const newForm = editing ? undefined : form;
  return consolePage(
    'Apps',
    chrome,
    html`${secret}${table}
<h2 id="new-app">New app</h2>${formProblem(newForm, 'The app was not created.')}
<form method="post" action="/console/apps" aria-labelledby="new-app">${csrfField(chrome)}<fieldset>
${textField({ id: 'a-name', name: 'name', label: 'Name', form: newForm, required: true })}
${textField({ ...URLS, id: 'a-urls', form: newForm })}
${textField({ ...TENANTS, id: 'a-tenants', form: newForm })}
${everyTenantBox('a-every', newForm, false)}
<button type="submit">Create app</button></fieldset></form>`,
  );
}

export interface LoginFilter {
  tenant?: string | undefined;
  connection?: string | undefined;
  app?: string | undefined;
  outcome?: string | undefined;
  error?: string | undefined;
  request?: string | undefined;
}

type Option = [value: string, label: string];

function select(name: keyof LoginFilter, label: string, options: Option[], current: string | undefined): Html {
  return html`<span><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">${options.map(
    ([value, text]) =>
      html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${text}</option>`,
  )}</select></span>`;
}

/** The login audit, filtered, newest first: names linked, with the step a failure happened at. */
export function loginsPage(
  chrome: Chrome,
  dir: Directory,
  filter: LoginFilter,
  rows: (LoginAttemptRow & { tenant: string | null; step: string | null })[],
) {
  const input = (name: keyof LoginFilter, label: string) =>
    html`<span><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" value="${filter[name] ?? ''}"></span>`;
  const tenants: Option[] = [
    ['', 'any'],
    ...[...dir.tenants].map(([slug, t]): Option => [slug, t.name]),
    [NO_TENANT, 'no tenant (failed before one was known)'],
  ];
  const connections: Option[] = [
    ['', 'any'],
    ...[...dir.connections].map(([id, c]): Option => [
      id,
      `${dir.tenants.get(c.tenant)?.name ?? c.tenant}: ${c.label}`,
    ]),
  ];
  const apps: Option[] = [['', 'any'], ...[...dir.apps.values()].map((a): Option => [a.id, a.name])];
  const body = rows.map(
    (r) => html`<tr><td>${when(r.at)}</td>
<td>${r.tenant ? tenantName(dir, r.tenant) : html`<span class="muted">no tenant</span>`}</td>
<td>${r.connection ? connectionName(dir, r.connection) : '—'}</td>
<td>${r.app ? appName(dir, r.app) : '—'}</td><td class="${r.outcome === 'success' ? 'ok' : 'bad'}">${r.outcome}</td>
<td>${r.error ? html`<code>${r.error}</code>` : '—'}</td><td>${r.step ? html`<code>${r.step}</code>` : '—'}</td>
<td>${r.durationMs} ms</td><td><code>${r.requestId ?? '—'}</code></td></tr>`,
  );
  const filtered = Object.values(filter).some((v) => v);
  const table =
    rows.length === 0
      ? emptyState(
          filtered
            ? 'No login matches these filters (with a request id, the other filters must match it too).'
            : 'No login yet. Every attempt shows here within a second, also one that failed before a tenant was known.',
        )
      : html`<table><thead><tr><th scope="col">When</th><th scope="col">Tenant</th><th scope="col">Connection</th>
<th scope="col">App</th><th scope="col">Outcome</th><th scope="col">Error</th><th scope="col">Failed at step</th>
<th scope="col">Duration</th><th scope="col">Request</th></tr></thead><tbody>${body}</tbody></table>`;
  return consolePage(
    'Logins',
    chrome,
    html`<p class="muted">A learner’s error page shows a request id: paste it below to find their attempt.</p>
<form method="get" action="/console/logins"><fieldset>${input('request', 'Request id')}
${select('tenant', 'Tenant', tenants, filter.tenant)}
${select('connection', 'Connection', connections, filter.connection)}
${select('app', 'App', apps, filter.app)}
${select(
  'outcome',
  'Outcome',
  [
    ['', 'any'],
    ['success', 'success'],
    ['failure', 'failure'],
  ],
  filter.outcome,
)}
${input('error', 'Error code')}<button type="submit">Filter</button></fieldset></form>
${table}`,
  );
}

/**
 * The tenant a change belongs to, when one does (an app may serve several, or every one). The
 * Changes filter applies the same rule in SQL (domain/changes/change-log.repo.ts); keep them alike.
 */
export function changeTenant(dir: Directory, c: ChangeRow): string | undefined {
  switch (c.resource) {
    case 'tenant':
      return c.id;
    case 'connection':
    case 'connection-version':
      return dir.connections.get(c.id.split('/')[0] ?? '')?.tenant;
    case 'setup-link':
      return dir.links.get(c.id)?.tenant;
    case 'domain':
      return c.id.split('/')[0];
    default:
      return undefined;
  }
}

/** What a change was made to, named and linked. */
function changeTarget(dir: Directory, c: ChangeRow): Html {
  switch (c.resource) {
    case 'tenant':
      return html`tenant ${tenantName(dir, c.id)}`;
    case 'connection':
      return html`connection ${connectionName(dir, c.id)}`;
    case 'connection-version': {
      const [id = '', n] = c.id.split('/');
      return html`version ${n} of ${connectionName(dir, id)}`;
    }
    case 'setup-link': {
      const link = dir.links.get(c.id);
      const tenant = link ? html` of ${tenantName(dir, link.tenant)}` : '';
      return html`setup link${link?.note ? html` “${link.note}”` : ''}${tenant}`;
    }
    case 'app':
      return html`app ${appName(dir, c.id)}`;
    default:
      return html`${c.resource} <code>${c.id}</code>`;
  }
}

/** Who changed what, newest first, named and linked; filtered by tenant. */
export function changesPage(chrome: Chrome, dir: Directory, rows: ChangeRow[], tenant: string | undefined) {
  const body = rows.map((c) => {
    const slug = changeTenant(dir, c);
    return html`<tr><td>${when(c.at)}</td><td>${c.actor}</td><td>${slug ? tenantName(dir, slug) : '—'}</td>
<td>${changeTarget(dir, c)}</td><td>${c.action}</td><td>${c.fields.join(', ') || '—'}</td>
<td>${c.address ?? '—'}</td></tr>`;
  });
  const options: Option[] = [['', 'any'], ...[...dir.tenants].map(([slug, t]): Option => [slug, t.name])];
  const table =
    rows.length === 0
      ? emptyState(
          tenant
            ? 'No change of this tenant yet.'
            : 'No change yet. Every write through the console or the admin API shows here, with who made it.',
        )
      : html`<table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Tenant</th>
<th scope="col">What</th><th scope="col">Action</th><th scope="col">Fields</th><th scope="col">From</th></tr></thead>
<tbody>${body}</tbody></table>`;
  return consolePage(
    'Changes',
    chrome,
    html`<form method="get" action="/console/changes"><fieldset>
<span><label for="c-tenant">Tenant</label><select id="c-tenant" name="tenant">${options.map(
      ([value, text]) =>
        html`<option value="${value}"${value === (tenant ?? '') ? html` selected` : ''}>${text}</option>`,
    )}</select></span><button type="submit">Filter</button></fieldset></form>
${table}`,
  );
}
