import type { SetupLinkView } from '../../domain/setup-links/setup-link.service.js';
import { html, type Html } from '../browser/html.js';
import { csrfField, emptyState, type Chrome } from './console-layout.js';
import { when } from '../browser/time.js';

/** A setup link's state: unused, used (opened), expired or revoked. */
export function linkState(link: SetupLinkView, now = Date.now()): string {
  if (link.revokedAt) return 'revoked';
  if (Date.parse(link.expiresAt) <= now) return 'expired';
  return link.usedAt ? 'used' : 'unused';
}

const EXPIRY_CHOICES: [number, string][] = [
  [24, '1 day'],
  [72, '3 days'],
  [168, '7 days'],
  [720, '30 days'],
  [2160, '90 days'],
];

const option = (hours: number, label: string) =>
  html`<option value="${hours}"${hours === 168 ? html` selected` : ''}>${label}</option>`;

/** A form that makes a setup link, with its note and how long it stays valid. */
export function newLinkForm(chrome: Chrome, action: string, idPrefix: string): Html {
  return html`<form method="post" action="${action}">${csrfField(chrome)}<fieldset>
<span><label for="${idPrefix}-note">Note (who it is for)</label><input id="${idPrefix}-note" name="note" maxlength="500"
size="30"></span>
<span><label for="${idPrefix}-expires">Valid for</label><select id="${idPrefix}-expires" name="expiresInHours">
${EXPIRY_CHOICES.map(([hours, label]) => option(hours, label))}
</select></span><button type="submit">Create a setup link</button></fieldset></form>`;
}

/** The setup link just made, shown once. */
export function freshLink(link: string | undefined): Html | '' {
  return link
    ? html`<div class="box good" role="status">
<p><label for="new-link">New setup link (shown once: copy it now)</label></p>
<input id="new-link" class="copy" readonly value="${link}"></div>`
    : '';
}

/** Setup links with their state, note and expiry; revocable while they work. `back`: the page to return to. */
export function linksTable(
  chrome: Chrome,
  links: SetupLinkView[],
  back: string,
  connectionNames?: Map<string, string>,
) {
  if (links.length === 0) return emptyState('No setup link yet. Create one below and send it to the IdP engineer.');
  const rows = links.map((l) => {
    const state = linkState(l);
    const open = state === 'unused' || state === 'used';
    const revoke = open
      ? html`<form method="post" action="/console/setup-links/${l.id}/revoke" class="inline">${csrfField(chrome)}
<input type="hidden" name="back" value="${back}"><button type="submit">Revoke</button></form>`
      : '';
    const connection = connectionNames
      ? html`<td><a href="/console/connections/${l.connection}">${
          connectionNames.get(l.connection) ?? 'new connection'
        }</a></td>`
      : '';
    const stateText =
      state === 'used'
        ? html`used (opened ${when(l.usedAt)})`
        : state === 'revoked'
          ? html`revoked ${when(l.revokedAt)}`
          : state;
    return html`<tr><td>${l.note ?? html`<span class="muted">no note</span>`}</td>${connection}
<td>${when(l.createdAt)}</td><td>${when(l.expiresAt)}</td><td>${stateText}</td><td>${revoke}</td></tr>`;
  });
  return html`<table><thead><tr><th scope="col">Note</th>${connectionNames ? html`<th scope="col">Connection</th>` : ''}
<th scope="col">Created</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col">Action</th>
</tr></thead>
<tbody>${rows}</tbody></table>`;
}
