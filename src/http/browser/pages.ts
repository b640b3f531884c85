import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24;line-height:1.5}
main{max-width:36rem;margin:10vh auto;background:#fff;padding:2rem 2.25rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 .75rem}p{margin:.5rem 0}.ref{color:#4a525c;font-size:.9rem;margin-top:1.5rem}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:4px}table{border-collapse:collapse}td,th{text-align:left;padding:.25rem .75rem .25rem 0;vertical-align:top}`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Our pages load nothing from anywhere and run no script; the one inline style is pinned by hash. */
export const PAGE_SECURITY_HEADERS = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>
`;
}

export function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).headers(PAGE_SECURITY_HEADERS).type('text/html; charset=utf-8').send(html);
}

/** What the learner should try, by error code; the default covers everything else. */
const ADVICE: Record<string, string> = {
  invalid_return_to: 'The application sent you here with an address the sign-in service does not know. Tell the application’s support team.',
  unknown_app: 'The application that sent you here is not registered. Tell the application’s support team.',
  unknown_tenant: 'Check that you used your organisation’s sign-in link or address. If it is right, tell your IT team that single sign-on is not set up for it.',
  no_connection: 'Your organisation has not finished setting up single sign-on. Tell your IT team.',
  tenant_not_allowed: 'Your organisation has not enabled this application. Tell your IT team.',
  invalid_state: 'Start again from the application. If you keep seeing this, allow cookies for this site.',
  login_expired: 'Start again from the application.',
  rate_limited: 'Wait a minute, then try again.',
};

export function renderErrorPage(input: { code: string; description: string; requestId: string }): string {
  const advice = ADVICE[input.code] ?? 'Go back to the application and try again. If it keeps happening, tell your IT team the reference below.';
  return renderPage(
    'Sign-in problem',
    `<h1>We could not sign you in</h1>
<p>${escapeHtml(input.description)}</p>
<p>${escapeHtml(advice)}</p>
<p class="ref">Reference: <code>${escapeHtml(input.code)}</code> · request <code>${escapeHtml(input.requestId)}</code></p>`,
  );
}
