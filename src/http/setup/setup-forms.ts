import { html, trusted, type Html } from '../browser/html.js';
import { lastTest } from '../browser/last-test.js';
import { humanTime } from '../browser/time.js';
import type { SetupPageModel } from './setup-page.js';

/** Steps 3 to 5 of the setup page: the forms that draft, test and activate a version. */

/** The value of an `<input type="date">`: YYYY-MM-DD. */
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
/** ` name` when `on`: a boolean attribute (or one with its value) of an element. */
export const attr = (on: boolean, name: string) => trusted(on ? ` ${name}` : '');
export const csrfField = (m: SetupPageModel) => html`<input type="hidden" name="csrf" value="${m.csrf}">`;

function report(m: SetupPageModel): Html | undefined {
  if (!m.report) return undefined;
  const checks = m.report.checks.map(
    (c) => html`<li class="${c.ok ? 'ok' : 'bad'}">${c.ok ? '✓' : '✗'} ${c.message}</li>`,
  );
  return html`<div class="box ${m.report.ok ? 'good' : 'err'}" role="status">
<p><strong>Validation of version ${m.draft?.version ?? ''}: ${m.report.ok ? 'every check passed' : 'some checks failed'}
</strong></p><ul>${checks}</ul></div>`;
}

export function stepHandBack(m: SetupPageModel): Html {
  const current = m.draft ?? m.active;
  const s = current?.settings;
  const method = m.method ?? s?.tokenEndpointAuthMethod ?? 'client_secret_post';
  const problems =
    m.problems?.length &&
    html`<div class="box err" role="alert"><p>Please fix:</p>
<ul>${m.problems.map((p) => html`<li><code>${p.path}</code> ${p.message}</li>`)}</ul></div>`;
  const secretHint = current?.clientSecretEnc
    ? 'A secret is set. Leave this empty to keep it.'
    : 'Write-only: it is never shown again.';
  const expiry = current?.clientSecretExpiresAt ? isoDay(current.clientSecretExpiresAt) : '';
  const secret =
    method === 'client_secret_post'
      ? html`<label for="clientSecret">Client secret</label>
<input id="clientSecret" name="clientSecret" type="password" autocomplete="off" aria-describedby="secret-hint">
<p class="hint" id="secret-hint">${secretHint}</p>
<label for="clientSecretExpiresAt">The secret expires on (if your IdP said)</label>
<input id="clientSecretExpiresAt" name="clientSecretExpiresAt" type="date" value="${expiry}">`
      : html`<p class="hint">Private key JWT: no secret. The broker signs with the key of step 2.</p>`;
  return html`<section aria-labelledby="s3"><h2 id="s3">3. Hand back your settings</h2>${problems || ''}${report(m)}
<form method="post" action="${m.base}/draft">${csrfField(m)}
<input type="hidden" name="idp" value="${m.product?.key ?? ''}">
<input type="hidden" name="tokenEndpointAuthMethod" value="${method}">
<label for="issuer">Issuer</label>
<input id="issuer" name="issuer" type="url" required value="${s?.issuer ?? ''}" aria-describedby="issuer-hint">
<p class="hint" id="issuer-hint">Exactly as your IdP’s discovery document says, a trailing slash included or not.</p>
<label for="discoveryUrl">Discovery URL</label>
<input id="discoveryUrl" name="discoveryUrl" type="url" value="${s?.discoveryUrl ?? ''}"
aria-describedby="discovery-hint">
<p class="hint" id="discovery-hint">Leave empty for the issuer followed by
<code>/.well-known/openid-configuration</code>.</p>
<label for="clientId">Client id</label>
<input id="clientId" name="clientId" type="text" required value="${s?.clientId ?? ''}">
${secret}
<label for="acrValues">Required ACR values (optional)</label>
<input id="acrValues" name="acrValues" type="text" value="${s?.acrValues.join(' ') ?? ''}" aria-describedby="acr-hint">
<p class="hint" id="acr-hint">Space-separated authentication context classes, in your IdP’s own names (its
multi-factor policy, say): every sign-in asks for them, and one without any of them is refused. Leave empty for
none; the test sign-in (step 4) shows whether your IdP honours them.</p>
<button type="submit">Save and validate</button></form></section>`;
}

/** The last test sign-in of a tested `version` (the next-step box and step 4 share it). */
export const lastTestOf = (version: NonNullable<SetupPageModel['draft']>): Html =>
  lastTest(
    version.version,
    version.lastTestAt ? { ok: version.lastTestOk === true, at: version.lastTestAt } : undefined,
  );

export function stepTestAndActivate(m: SetupPageModel): Html {
  const tested = m.draft ?? m.active;
  const last = tested?.lastTestAt
    ? html`<p>${lastTestOf(tested)}.${tested.lastTestOk ? '' : ' Its page said which step failed and why.'}</p>`
    : html`<p class="hint">No test sign-in of ${tested ? `version ${tested.version}` : 'your settings'} yet.</p>`;
  const since = m.active?.activatedAt ? html`, since ${humanTime(m.active.activatedAt)}` : '';
  const active = m.active
    ? html`<p>Active now: version ${m.active.version}, issuer <code>${m.active.settings.issuer}</code>,
client id <code>${m.active.settings.clientId}</code>${since}.</p>`
    : html`<p>Nothing is active yet: learners cannot sign in through this connection.</p>`;
  const draft =
    m.draft &&
    (m.draft.lastTestOk === true
      ? html`<p>Version ${m.draft.version} is a draft whose test sign-in succeeded: activate it with the button in
<a href="#next">Next</a>, at the top of this page.</p>`
      : html`<p>Version ${m.draft.version} is a draft. It can be activated once a test sign-in with it succeeded
(step 4).</p>`);
  return html`<section aria-labelledby="s4"><h2 id="s4">4. Test sign-in</h2>
<p>Sign in at your IdP with a test account, in this browser. The broker runs every check and shows each step;
no application receives anything. Its page then leads back here, to the result and what to do next.</p>
<p>The test uses the same redirect URI as the live connection (step 2): register nothing else. It works only in
the browser that started it, once: there is no test link to send anyone.</p>
${last}
<form method="post" action="${m.base}/test-login">${csrfField(m)}
<button type="submit"${attr(!tested, 'disabled')}>Test sign-in${m.draft ? ` with version ${m.draft.version}` : ''}
</button></form></section>
<section aria-labelledby="s5"><h2 id="s5">5. Activate</h2>${active}
${draft}
</section>`;
}
