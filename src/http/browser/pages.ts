import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ERROR_TABLE } from '../../errors/broker-error.js';
import { guidanceFor } from './learner-guidance.js';
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

/** What every page of ours is sent with besides its CSP: not sniffed, not framed, no referrer. */
export const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

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
    ...PAGE_HEADERS,
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

/** The code's usual description (the one ERROR_TABLE gives), which a titleSaysIt guidance's title restates. */
const usual = (code: string) => (ERROR_TABLE as Record<string, { message: string } | undefined>)[code]?.message;

export function renderErrorPage(input: {
  code: string;
  description: string;
  requestId: string;
  organisation?: string | undefined;
  /** BrokerError.learnerCase: the case of the code with words of its own. */
  learnerCase?: string | undefined;
  /**
   * A link back to the app: only ever a return URL that passed the app's exact-match check
   * (way-back-to-app.ts), never one taken from the request as it came.
   */
  wayBack?: { url: string; app: string } | undefined;
}): string {
  const guidance = guidanceFor(input.code, input.learnerCase);
  const org = input.organisation ?? 'your organisation';
  const fill = (text: string) => text.replaceAll('{org}', org);
  const title = fill(guidance.title);
  const organisation = input.organisation ? html`Organisation: ${input.organisation} · ` : '';
  const description =
    guidance.titleSaysIt && input.description === usual(input.code) ? '' : html`<p>${input.description}</p>`;
  const wayBack = input.wayBack && html`<p><a href="${input.wayBack.url}">Back to ${input.wayBack.app}</a></p>`;
  return renderPage(
    title,
    html`<h1>${title.charAt(0).toUpperCase()}${title.slice(1)}</h1>
${description}
<h2>What you can do</h2>
<p>${fill(guidance.tryThis)}</p>${wayBack}
<h2>If you need help</h2>
<p>${fill(guidance.tellIt)}</p>
<p class="ref">${organisation}Reference: <code>${input.code}</code> · request <code>${input.requestId}</code></p>`,
  );
}
