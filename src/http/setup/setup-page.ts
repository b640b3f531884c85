import type { ConnectionVersion } from '../../domain/connections/connection-version.repo.js';
import type { DomainView } from '../../domain/domains/domain.service.js';
import type { ValidationReport } from '../../oidc/validate-idp.js';
import { html, trusted, type Html } from '../browser/html.js';
import { pageSecurityHeaders, renderPage } from '../browser/pages.js';
import { humanTime, timeUntil } from '../browser/time.js';
import { IDP_PRODUCTS, type IdpProduct } from './idp-products.js';
import { domainsSection, type DomainResult } from './setup-domains.js';
import { attr, csrfField, stepHandBack, stepTestAndActivate } from './setup-forms.js';
import { nextStep } from './setup-next.js';

export type Method = 'client_secret_post' | 'private_key_jwt';

export interface SetupPageModel {
  /** /setup/<token>: where the page and its forms live. */
  base: string;
  csrf: string;
  tenantName: string;
  connectionId: string;
  uris: { redirect: string; postLogout: string; initiate: string; jwks: string; backchannelLogout: string };
  keys: {
    kid: string;
    active: boolean;
    certificateUrl?: string;
    notAfter?: string;
    sha1Hex?: string;
    sha256Hex?: string;
    x5tS256?: string;
  }[];
  product: IdpProduct | undefined;
  method: Method | undefined;
  active: ConnectionVersion | undefined;
  draft: ConnectionVersion | undefined;
  /** Until when the link works (the operator chose it when making the link). */
  linkExpiresAt: Date;
  report?: ValidationReport;
  problems?: { path: string; message: string }[];
  /** A sentence at the top: what just happened. */
  notice?: string;
  error?: string;
  /** Credentials that expire within 30 days. */
  expiring: { what: string; at: Date }[];
  /** The tenant's email domains, and whether its sign-in accepts only addresses at verified ones. */
  domains: DomainView[];
  restrictToDomains: boolean;
  /** What a domain action did (a refusal), or the query after its redirect (`added=`, `verified=`). */
  domainResult?: DomainResult;
  domainsAfter?: Record<string, unknown>;
}

/** Copy buttons: the only script, pinned by hash in the page's CSP. Without it, values stay selectable. */
const SCRIPT = `document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;
b.addEventListener('click',function(){navigator.clipboard.writeText(b.getAttribute('data-copy')).then(function(){
b.textContent='Copied';setTimeout(function(){b.textContent='Copy'},1500)})})});`;
const STYLE = `main{max-width:50rem}ol.progress{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none}
ol.progress li{padding:.2rem .6rem;border-radius:1rem;background:#eef0f3;font-size:.9rem}
ol.progress li.done{background:#dff3e4}ol.progress li.now{outline:2px solid #1b5fc1}
section{border-top:1px solid #e3e6ea;margin-top:1.25rem;padding-top:.5rem}label{display:block;margin:.6rem 0 .2rem;
font-weight:600}input[type=text],input[type=url],input[type=password],input[type=date],select{width:100%;
padding:.4rem;box-sizing:border-box;font:inherit}button{font:inherit;padding:.4rem .9rem;margin-top:.6rem;
cursor:pointer}.hint{color:#4a525c;font-size:.9rem;margin:.1rem 0}.ok{color:#176b2c}.bad{color:#a3121d}
.box{padding:.6rem .9rem;border-radius:6px;background:#fff4d6;margin:.75rem 0}.box.good{background:#dff3e4}
.box.err{background:#fde2e2}button[data-copy]{margin:0 0 0 .4rem;padding:.05rem .5rem;font-size:.8rem}
fieldset{border:0;padding:0;margin:0}label.choice{font-weight:normal}
section.next{border:2px solid #1b5fc1;background:#f3f7fd;margin-top:.75rem;padding:.4rem .9rem}
section.next h2{margin-top:.2rem}#domains li{margin-bottom:.75rem}`;
/** The setup page posts its own forms and runs one script, pinned like its style. */
export const SETUP_PAGE_HEADERS = pageSecurityHeaders({ styles: [STYLE], scripts: [SCRIPT], forms: true });

/** What the page says when private_key_jwt is chosen on a broker without a key of its own. */
export const NO_BROKER_KEY =
  'Private key JWT needs a broker key, and this broker has none yet. An operator of the sign-in service must ' +
  'create one first (npm run keys:generate, then restart the broker); until then, choose Client secret.';

/**
 * The chosen method cannot work here: private_key_jwt without a broker key, or a method the
 * chosen product does not support. Steps 2 onwards then wait for step 1 to change.
 */
export const blocked = (m: SetupPageModel) =>
  (m.method === 'private_key_jwt' && m.keys.length === 0) ||
  (m.product !== undefined && m.method !== undefined && !m.product.methods.includes(m.method));

export const copy = (value: string) =>
  html`<code>${value}</code><button type="button" data-copy="${value}" hidden>Copy</button>`;

/**
 * Where the holder is: a step is done when it is, or when a later one is (a live connection was
 * registered, whoever chose its IdP). A method that cannot work here holds everything from step
 * 2 on, whatever was saved before; after activation every step is done and none is current.
 */
function progress(m: SetupPageModel): Html {
  const tested = m.draft?.lastTestOk === true;
  const live = m.draft === undefined && m.active !== undefined;
  const own = [
    m.product !== undefined,
    m.product !== undefined && m.method !== undefined,
    m.draft !== undefined || m.active !== undefined,
    tested || live,
    live,
  ];
  const done = own.map((_, i) => own.slice(i).some(Boolean));
  if (blocked(m)) done.fill(false, 1);
  const names = ['1 · Your IdP', '2 · Register the broker', '3 · Hand back your settings', '4 · Test sign-in'];
  const steps: [string, boolean][] = [...names, '5 · Activate'].map((name, i) => [name, done[i] === true]);
  const now = steps.findIndex(([, isDone]) => !isDone);
  const item = ([name, done]: [string, boolean], i: number) =>
    html`<li class="${done ? 'done' : i === now ? 'now' : ''}"${attr(i === now, 'aria-current="step"')}>
${done ? '✓ ' : ''}${name}</li>`;
  return html`<ol class="progress" aria-label="Progress">${steps.map(item)}</ol>`;
}

function stepChoose(m: SetupPageModel): Html {
  const options = IDP_PRODUCTS.map(
    (p) => html`<option value="${p.key}"${attr(p.key === m.product?.key, 'selected')}>${p.name}</option>`,
  );
  const noKey = m.keys.length === 0;
  const method = (value: Method, label: string, why: string, off = false) => html`<label class="choice">
<input type="radio" name="method" value="${value}"${attr(m.method === value && !off, 'checked')}${attr(off, 'disabled')}
 required><strong>${label}</strong>: ${why}</label>`;
  const pkjWhy = noKey
    ? 'unavailable on this broker for now: it has no key of its own yet, and an operator must create one first.'
    : 'your IdP trusts the broker’s key; nothing secret changes hands.';
  return html`<section aria-labelledby="s1">
<h2 id="s1">1. Which identity provider, and how the broker authenticates</h2>
<form method="post" action="${m.base}/choose">${csrfField(m)}<label for="idp">Identity provider</label>
<select id="idp" name="idp" required><option value="">Choose…</option>${options}</select>
<fieldset><legend class="hint">Client authentication: which should I pick? A secret is quickest;
a key pair has no secret to leak or expire.</legend>
${method('client_secret_post', 'Client secret', 'your IdP issues a secret and you paste it here.')}
${method('private_key_jwt', 'Private key JWT', pkjWhy, noKey)}
</fieldset><button type="submit">Show what to register</button></form></section>`;
}

function keyItem(m: SetupPageModel, k: SetupPageModel['keys'][number]): Html {
  const thumb =
    m.product?.thumbprint === 'sha1-hex'
      ? html`SHA-1 thumbprint ${copy(k.sha1Hex ?? '')}`
      : m.product?.thumbprint === 'sha256-hex'
        ? html`SHA-256 fingerprint ${copy(k.sha256Hex ?? '')}`
        : html`<code>x5t#S256</code> ${copy(k.x5tS256 ?? '')}`;
  const certificate =
    k.certificateUrl &&
    html`: <a href="${k.certificateUrl}" download>download the certificate</a>, valid until
${k.notAfter ? humanTime(k.notAfter, 'day') : ''};
${thumb}`;
  return html`<li>Key <code>${k.kid}</code>${k.active ? ' (signs now)' : ''}${certificate}</li>`;
}

function stepRegister(m: SetupPageModel): Html {
  if (!m.product || !m.method) {
    return html`<section aria-labelledby="s2"><h2 id="s2">2. What to register</h2>
<p class="hint">Choose your IdP in step 1 first.</p></section>`;
  }
  const pkj = m.method === 'private_key_jwt';
  if (blocked(m)) {
    const why = pkj && m.keys.length === 0 ? NO_BROKER_KEY : `${m.product.name} does not support ${m.method}.`;
    return html`<section aria-labelledby="s2"><h2 id="s2">2. Register the broker at ${m.product.name}</h2>
<p class="box err">${why} Choose the other method in step 1.</p></section>`;
  }
  const keys = pkj && html`<ul>${m.keys.map((k) => keyItem(m, k))}</ul>`;
  return html`<section aria-labelledby="s2"><h2 id="s2">2. Register the broker at ${m.product.name}</h2>
<p>${trusted(m.product.notes)}</p>
<table>
<tr><th scope="row">Redirect URI (this connection’s own)</th><td>${copy(m.uris.redirect)}</td></tr>
<tr><th scope="row">Post-logout redirect URI</th><td>${copy(m.uris.postLogout)}</td></tr>
<tr><th scope="row">Initiate login URI (optional)</th><td>${copy(m.uris.initiate)}</td></tr>
<tr><th scope="row">Back-channel logout URI (optional)</th><td>${copy(m.uris.backchannelLogout)}
<p class="hint">A learner who signs out at ${m.product.name} is signed out of every app.
${trusted(m.product.backchannelLogout)}</p></td></tr>
<tr><th scope="row">Scopes</th><td>${copy('openid email profile')}</td></tr>
<tr><th scope="row">ID token</th><td>RS256, with <code>sub</code> and <code>email</code>
(or <code>preferred_username</code>)</td></tr>
${pkj && html`<tr><th scope="row">JWKS URL</th><td>${copy(m.uris.jwks)}</td></tr>`}
</table>
${keys}
</section>`;
}

export function renderSetupLinkPage(m: SetupPageModel): string {
  const expiring = m.expiring.map(
    (e) => html`<p class="box" role="note">${e.what} expires on ${humanTime(e.at, 'day')}:
renew it and save the new one in step 3.</p>`,
  );
  const notice = m.notice && html`<p class="box good" role="status">${m.notice}</p>`;
  const error = m.error && html`<p class="box err" role="alert">${m.error}</p>`;
  return renderPage(
    `Set up single sign-on for ${m.tenantName}`,
    html`<h1>Set up single sign-on for ${m.tenantName}</h1>
<p class="hint">Connection <code>${m.connectionId}</code>. This page is a private link: do not share it. It works
until ${humanTime(m.linkExpiresAt)} (${timeUntil(m.linkExpiresAt)}), as the operator chose when making it, unless
they revoke it sooner; come back with it any time until then.</p>
${progress(m)}
${notice}${error}${expiring}
${nextStep(m)}
${stepChoose(m)}${stepRegister(m)}${stepHandBack(m)}${stepTestAndActivate(m)}${domainsSection(m)}
<script>${trusted(SCRIPT)}</script>`,
    html`<style>${trusted(STYLE)}</style>`,
  );
}
