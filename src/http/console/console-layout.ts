import { html, trusted, type Html } from '../browser/html.js';
import { pageSecurityHeaders, renderPage } from '../browser/pages.js';

const STYLE = `main{max-width:72rem;margin:2rem auto}nav{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;
border-bottom:1px solid #e3e6ea;padding-bottom:.5rem;margin-bottom:1rem}nav a{color:#1b5fc1}
nav form{margin-left:auto}table{width:100%;font-size:.92rem}th,td{border-bottom:1px solid #eef0f3}
thead th{background:#f5f6f8}button{font:inherit;padding:.3rem .8rem;cursor:pointer}
form.inline{display:inline}label{font-weight:600;margin-right:.3rem}input,select{font:inherit;padding:.25rem}
.ok{color:#176b2c}.bad{color:#a3121d}.box{padding:.6rem .9rem;border-radius:6px;background:#fff4d6;margin:.75rem 0}
.box.good{background:#dff3e4}.box.err{background:#fde2e2}.muted{color:#4a525c}
input.copy{width:100%;font-family:monospace}fieldset{border:0;padding:0;margin:.5rem 0;display:flex;gap:.75rem;
flex-wrap:wrap;align-items:end}fieldset>span{display:flex;flex-direction:column}
.field-error{color:#a3121d;font-size:.88rem}input[aria-invalid=true]{border:2px solid #a3121d}
.empty{padding:.6rem .9rem;border:1px dashed #c3c8cf;border-radius:6px;color:#4a525c}
details{margin:.3rem 0}summary{cursor:pointer;color:#1b5fc1}time{white-space:nowrap}legend{font-weight:600}`;
/** Console pages post their own forms; they load and run nothing else. */
export const CONSOLE_HEADERS = pageSecurityHeaders({ styles: [STYLE], forms: true });

export interface Chrome {
  actor: string;
  csrf: string;
  /** A sentence on what just happened, or what went wrong. */
  notice?: string | undefined;
  error?: string | undefined;
}

export const csrfField = (chrome: Pick<Chrome, 'csrf'>) =>
  html`<input type="hidden" name="csrf" value="${chrome.csrf}">`;

/** A console page: navigation, who is signed in, the page's notice, its body. */
export function consolePage(title: string, chrome: Chrome, body: Html): string {
  const nav = html`<nav aria-label="Console"><strong>SSO broker console</strong>
<a href="/console">Tenants</a><a href="/console/apps">Apps</a><a href="/console/webhooks">Webhooks</a>
<a href="/console/logins">Logins</a><a href="/console/changes">Changes</a>
<form method="post" action="/console/sign-out" class="inline">${csrfField(chrome)}
<span class="muted">${chrome.actor}</span> <button type="submit">Sign out</button></form></nav>`;
  const notice = chrome.notice && html`<p class="box good" role="status">${chrome.notice}</p>`;
  const error = chrome.error && html`<p class="box err" role="alert">${chrome.error}</p>`;
  return renderPage(
    `${title} · SSO broker console`,
    html`${nav}<h1>${title}</h1>${notice}${error}${body}`,
    html`<style>${trusted(STYLE)}</style>`,
  );
}

/** What an empty list holds, and the next step. */
export const emptyState = (text: Html | string) => html`<p class="empty">${text}</p>`;

/** The console's links, for a page shown without a session (no sign-out form). */
const NAV_LINKS = html`<a href="/console">Tenants</a><a href="/console/apps">Apps</a>
<a href="/console/webhooks">Webhooks</a><a href="/console/logins">Logins</a><a href="/console/changes">Changes</a>`;

/** An unknown console path: a console page, not the API's JSON (the session is not needed to say so). */
export function consoleNotFoundPage(path: string): string {
  return renderPage(
    'Not found · SSO broker console',
    html`<nav aria-label="Console"><strong>SSO broker console</strong>${NAV_LINKS}</nav><h1>No such console page</h1>
<p>The console has no page at <code>${path.slice(0, 200)}</code>. It may have been a link to something deleted,
or a typo. Start again from the <a href="/console">tenants</a>.</p>`,
    html`<style>${trusted(STYLE)}</style>`,
  );
}

/** The sign-in page: the admin token, and the broker's own SSO when CONSOLE_TENANT is set. */
export function signInPage(options: { error?: string; ssoTenant?: string | undefined }): string {
  const error = options.error && html`<p class="box err" role="alert">${options.error}</p>`;
  const sso =
    options.ssoTenant &&
    html`<h2>Or with your organisation’s account</h2>
<form method="post" action="/console/sign-in/sso"><button type="submit">Sign in with single sign-on</button></form>`;
  return renderPage(
    'Sign in · SSO broker console',
    html`<h1>SSO broker console</h1>${error}
<form method="post" action="/console/sign-in"><p><label for="token">Admin token</label></p>
<p><input id="token" name="token" type="password" autocomplete="current-password" required size="40"
aria-describedby="token-hint"></p>
<p id="token-hint" class="muted">The admin token is the <code>ADMIN_TOKEN</code> the broker was started with. On the
embedded database (no <code>DATABASE_URL</code>) the broker made one: it is in <code>./.data/admin-token</code>, and the
start-up log prints a sign-in link that works once.</p>
<button type="submit">Sign in</button></form>${sso}`,
    html`<style>${trusted(STYLE)}</style>`,
  );
}
