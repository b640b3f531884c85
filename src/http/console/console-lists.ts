import type { AppView } from '../../domain/apps/app.service.js';
import type { LoginAttemptRow } from '../../domain/audit/login-audit.repo.js';
import type { ChangeRow } from '../../domain/changes/change-log.repo.js';
import { html } from '../browser/html.js';
import { consolePage, csrfField, when, type Chrome } from './console-layout.js';

/** Apps: return URLs, allowed tenants, rotate secret (the new one shown once). */
export function appsPage(chrome: Chrome, apps: AppView[], rotated?: { app: string; secret: string }) {
  const secret = rotated
    ? html`<div class="box good" role="status"><p><label for="new-secret">Secret of app ${rotated.app}
(shown once: copy it now; any older one no longer works)</label></p>
<input id="new-secret" class="copy" readonly value="${rotated.secret}"></div>`
    : '';
  const rows = apps.map(
    (a) => html`<tr><th scope="row">${a.name}<br><code>${a.id}</code></th>
<td>${a.returnUrls.map((u) => html`<code>${u}</code><br>`)}</td>
<td>${a.tenants ? a.tenants.join(', ') : 'every tenant'}</td>
<td><form method="post" action="/console/apps/${a.id}/rotate-secret" class="inline">${csrfField(chrome)}
<button type="submit">Rotate secret of ${a.name}</button></form></td></tr>`,
  );
  return consolePage(
    'Apps',
    chrome,
    html`${secret}<table><thead><tr><th scope="col">App</th><th scope="col">Return URLs</th>
<th scope="col">Tenants</th><th scope="col">Secret</th></tr></thead><tbody>${rows}</tbody></table>
<h2>New app</h2>
<form method="post" action="/console/apps">${csrfField(chrome)}<fieldset>
<span><label for="a-name">Name</label><input id="a-name" name="name" required></span>
<span><label for="a-urls">Return URLs (comma-separated)</label>
<input id="a-urls" name="returnUrls" required size="50"></span>
<span><label for="a-tenants">Tenants (comma-separated; empty: every tenant)</label>
<input id="a-tenants" name="tenants"></span>
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

/** The login audit, filtered, newest first. */
export function loginsPage(chrome: Chrome, filter: LoginFilter, rows: (LoginAttemptRow & { tenant: string })[]) {
  const input = (name: keyof LoginFilter, label: string) =>
    html`<span><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" value="${filter[name] ?? ''}"></span>`;
  const outcome = (value: string, label: string) =>
    html`<option value="${value}"${value === (filter.outcome ?? '') ? html` selected` : ''}>${label}</option>`;
  const body = rows.map(
    (r) => html`<tr><td>${when(r.at)}</td><td><code>${r.tenant}</code></td>
<td><code>${r.connection ?? '—'}</code></td>
<td><code>${r.app ?? '—'}</code></td><td class="${r.outcome === 'success' ? 'ok' : 'bad'}">${r.outcome}</td>
<td>${r.error ? html`<code>${r.error}</code>` : '—'}</td><td>${r.durationMs} ms</td>
<td><code>${r.requestId ?? '—'}</code></td></tr>`,
  );
  return consolePage(
    'Logins',
    chrome,
    html`<form method="get" action="/console/logins"><fieldset>${input('tenant', 'Tenant')}
${input('connection', 'Connection')}${input('app', 'App')}
<span><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome">${outcome('', 'any')}
${outcome('success', 'success')}${outcome('failure', 'failure')}</select></span>
${input('error', 'Error code')}${input('request', 'Request id')}<button type="submit">Filter</button></fieldset></form>
<table><thead><tr><th scope="col">When</th><th scope="col">Tenant</th><th scope="col">Connection</th>
<th scope="col">App</th><th scope="col">Outcome</th><th scope="col">Error</th><th scope="col">Duration</th>
<th scope="col">Request</th></tr></thead>
<tbody>${body}</tbody></table>`,
  );
}

/** Who changed what, newest first. */
export function changesPage(chrome: Chrome, rows: ChangeRow[]) {
  const body = rows.map(
    (c) => html`<tr><td>${when(c.at)}</td><td>${c.actor}</td><td>${c.resource}</td><td><code>${c.id}</code></td>
<td>${c.action}</td><td>${c.fields.join(', ') || '—'}</td><td>${c.address ?? '—'}</td></tr>`,
  );
  return consolePage(
    'Changes',
    chrome,
    html`<table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Resource</th>
<th scope="col">Id</th><th scope="col">Action</th><th scope="col">Fields</th><th scope="col">From</th></tr></thead>
<tbody>${body}</tbody></table>`,
  );
}
