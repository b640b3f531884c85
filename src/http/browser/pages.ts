import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { html, trusted, type Html } from './html.js';

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;
color:#1b1f24;line-height:1.5}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem 2.25rem;border-radius:8px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .75rem}h2{font-size:1rem;margin:1.25rem 0 .25rem}p{margin:.5rem 0}
.ref{color:#4a525c;font-size:.9rem;margin-top:1.5rem}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:4px}table{border-collapse:collapse}
td,th{text-align:left;padding:.25rem .75rem .25rem 0;vertical-align:top}`;

/** CSP sources that allow exactly these inline styles or scripts, by their SHA-256. */
export const pinned = (inline: readonly string[]) =>
  inline.map((text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`).join(' ');

/**
 * The headers of our pages: they load nothing from anywhere, their inline styles (ours, plus a
 * page's own) and scripts are pinned by hash, and only a page with forms may post them — to
 * this broker.
 */
export function pageSecurityHeaders(page: { styles?: string[]; scripts?: string[]; forms?: boolean } = {}) {
  const { styles = [], scripts = [], forms = false } = page;
  return {
    'content-security-policy': [
      "default-src 'none'",
      `style-src ${pinned([STYLE, ...styles])}`,
      ...(scripts.length > 0 ? [`script-src ${pinned(scripts)}`] : []),
      ...(forms ? ["form-action 'self'"] : ["img-src 'self'", "form-action 'none'"]),
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

/** Our learner and setup pages: no script, no form. */
export const PAGE_SECURITY_HEADERS = pageSecurityHeaders();

/** A page in the broker's style; `head` adds to the head (a page's own style, pinned in its CSP). */
export function renderPage(title: string, body: Html, head?: Html): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${trusted(STYLE)}</style>${head}</head>
<body><main>
${body}
</main></body>
</html>
`.markup;
}

/** A page that moves on to `path` at once — a page of this broker, or an IdP's authorization URL — and links there. */
export function renderContinuePage(path: string, title: string): string {
  return renderPage(
    title,
    html`<h1>${title}</h1><p><a href="${path}">Continue</a></p>`,
    html`<meta http-equiv="refresh" content="0;url=${path}">`,
  );
}

export function sendPage(reply: FastifyReply, status: number, html: string, headers = PAGE_SECURITY_HEADERS) {
  return reply.code(status).headers(headers).type('text/html; charset=utf-8').send(html);
}

interface Guidance {
  /** What happened, as a heading. `{org}` is the organisation's name when known. */
  title: string;
  /** What the learner can try. */
  tryThis: string;
  /** What to pass on, and to whom (the seeds' troubleshooting tables, in plain words). */
  tellIt: string;
}

const GENERIC: Guidance = {
  title: 'We could not sign you in',
  tryThis: 'Go back to the application and try again.',
  tellIt: 'If it keeps happening, tell your IT team the reference below.',
};

/** Per error code: what happened, what to try, what to tell whom. */
const GUIDANCE: Record<string, Guidance> = {
  unknown_tenant: {
    title: 'We do not recognise this organisation',
    tryThis:
      'Check that you used your organisation’s own sign-in link, or sign in with your work email address from the ' +
      'application.',
    tellIt:
      'If the link is right, tell your IT team: single sign-on is not configured for this organisation ' +
      '(configuration not found).',
  },
  no_connection: {
    title: 'Single sign-on is not set up for {org} yet',
    tryThis: 'You cannot sign in this way until it is.',
    tellIt: 'Tell your IT team: the organisation has no enabled identity-provider connection.',
  },
  tenant_not_allowed: {
    title: 'This application is not enabled for {org}',
    tryThis: 'Check that you chose the right organisation.',
    tellIt: 'Tell your IT team: the application is not enabled for this organisation.',
  },
  invalid_return_to: {
    title: 'This sign-in link is not valid',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt:
      'Tell the application’s support team: it sent a return address that is not registered with the sign-in ' +
      'service (redirect URI mismatch).',
  },
  unknown_app: {
    title: 'This sign-in link is not valid',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt: 'Tell the application’s support team: the application is not registered with the sign-in service.',
  },
  invalid_request: {
    title: 'This sign-in link is incomplete',
    tryThis: 'Go back to the application and start again from its sign-in button.',
    tellIt: 'If it keeps happening, tell the application’s support team the reference below.',
  },
  invalid_state: {
    title: 'This sign-in could not be matched to your browser',
    tryThis: 'Start again from the application, in the same browser. Make sure cookies are allowed for this site.',
    tellIt: 'If it keeps happening, tell your IT team the reference below.',
  },
  callback_mismatch: {
    title: 'This sign-in came back to the wrong address',
    tryThis:
      'Start again from the application. If you were sent here by a link someone gave you, do not use that link again.',
    tellIt:
      'Tell your IT team: the identity provider must send sign-ins to this connection’s own redirect URI, shown on ' +
      'the broker’s setup page for the connection (redirect URI mismatch).',
  },
  temporarily_unavailable: {
    title: 'The sign-in service is briefly unavailable',
    tryThis: 'Try again in a moment: reload this page, or start again from the application.',
    tellIt: 'Nothing to report unless it lasts more than a few minutes.',
  },
  invalid_setup_link: {
    title: 'This setup link does not work',
    tryThis: 'Check that you opened the whole link, as the operator sent it.',
    tellIt: 'Ask the operator of the sign-in service for a new setup link: links expire and can be revoked.',
  },
  console_tenant: {
    title: 'This setup link cannot change this organisation’s sign-in',
    tryThis: 'Nothing on this page will work: it saves and activates nothing.',
    tellIt: 'Send your IdP settings to the operator of the sign-in service, who enters them directly.',
  },
  csrf_failed: {
    title: 'This form could not be verified',
    tryThis: 'Reload the setup page and submit the form again.',
    tellIt: 'Nothing to report unless it keeps happening.',
  },
  login_expired: {
    title: 'This sign-in took too long or was already completed',
    tryThis: 'Start again from the application.',
    tellIt: 'Nothing to report unless it keeps happening.',
  },
  unknown_session: {
    title: 'You are already signed out',
    tryThis: 'Go back to the application.',
    tellIt: 'Nothing to report.',
  },
  access_denied: {
    title: 'The sign-in was cancelled',
    tryThis: 'Try again, and approve the sign-in at your organisation’s page.',
    tellIt: 'If your organisation refused it, ask your IT team for access to this application.',
  },
  idp_error: {
    title: '{org}’s sign-in service had a problem',
    tryThis: 'Try again in a few minutes.',
    tellIt:
      'If it keeps happening, tell your IT team: the identity provider returned an error or could not be reached.',
  },
  token_exchange_failed: {
    title: 'The sign-in could not be completed with {org}’s sign-in service',
    tryThis: 'Try again in a few minutes.',
    tellIt:
      'Tell your IT team: the token exchange failed — check the connection’s client ID and secret or key, and that ' +
      'they have not expired.',
  },
  invalid_id_token: {
    title: 'Your identity could not be verified',
    tryThis: 'Try again. If it keeps happening, your organisation’s setup needs a change.',
    tellIt:
      'Tell your IT team: the identity provider’s token failed verification (token verification failure: signature, ' +
      'issuer, audience or time).',
  },
  missing_claims: {
    title: 'Your account is missing details we need',
    tryThis: 'You cannot sign in this way until your account has an email address or username.',
    tellIt: 'Tell your IT team: the identity provider sent no user id and no email or username.',
  },
  domain_not_allowed: {
    title: 'This account does not belong to {org}',
    tryThis: 'Sign in with your {org} account, or choose your own organisation in the application.',
    tellIt:
      'If this is your organisation’s account, tell your IT team: the identity provider must send a verified email ' +
      'address of one of the organisation’s registered domains.',
  },
  rate_limited: {
    title: 'Too many attempts',
    tryThis: 'Wait a minute, then try again.',
    tellIt: 'Nothing to report unless it keeps happening.',
  },
};

export function renderErrorPage(input: {
  code: string;
  description: string;
  requestId: string;
  organisation?: string | undefined;
}): string {
  const guidance = GUIDANCE[input.code] ?? GENERIC;
  const org = input.organisation ?? 'your organisation';
  const fill = (text: string) => text.replaceAll('{org}', org);
  const title = fill(guidance.title);
  const organisation = input.organisation ? html`Organisation: ${input.organisation} · ` : '';
  return renderPage(
    title,
    html`<h1>${title.charAt(0).toUpperCase()}${title.slice(1)}</h1>
<p>${input.description}</p>
<h2>What you can do</h2>
<p>${fill(guidance.tryThis)}</p>
<h2>If you need help</h2>
<p>${fill(guidance.tellIt)}</p>
<p class="ref">${organisation}Reference: <code>${input.code}</code> · request <code>${input.requestId}</code></p>`,
  );
}
