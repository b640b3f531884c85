import type { StepId } from '../../domain/login/pipeline.js';
import type { Diagnostics } from '../../domain/login/test-login.service.js';
import { html } from './html.js';
import { renderPage } from './pages.js';

const STEP_NAMES: Record<StepId, string> = {
  connection: 'Connection loaded',
  discovery: 'Discovery document and issuer',
  response_issuer: 'The response names this connection’s issuer (RFC 9207 iss, when sent)',
  authorization: 'IdP redirected back to this connection’s redirect URI with a code',
  token_exchange:
    'Token exchange (client authentication, PKCE) and ID-token checks (RS256 signature, iss, aud/azp, exp/iat/nbf, ' +
    'nonce)',
  acr: 'The ID token’s acr is one of the ACR values asked for',
  freshness: 'The sign-in is recent enough (auth_time against max_age or prompt=login)',
  userinfo: 'Userinfo (sub matches)',
  claims: 'Required claims: user id and email-like login',
  domain: 'Verified email (and hosted domain) allowed for the tenant',
};

/**
 * The way back to the page that started the test (a setup link's), first thing after the verdict:
 * that page shows this result at its top, with the next action (activate, or fix and test again).
 */
function back(d: Diagnostics, backTo: string | undefined) {
  if (backTo === undefined) return '';
  const next = d.ok ? `activate version ${d.version ?? ''}`.trim() : 'fix it and test again';
  return html`<p class="next"><a href="${backTo}">Back to the setup page: ${next}</a></p>`;
}

/** The test-login result: each step ticked or crossed with its reason, then the validated claims. */
export function renderDiagnosticsPage(d: Diagnostics, requestId: string, backTo?: string): string {
  const rows = d.steps.map(
    (s) => html`<tr><td><span aria-label="${s.ok ? 'passed' : 'failed'}">${s.ok ? '✓' : '✗'}</span></td>
<th scope="row">${STEP_NAMES[s.id]}</th><td>${s.message}</td></tr>
`,
  );
  const claims =
    d.claims &&
    html`<h2>Validated ID-token claims</h2><table>${Object.entries(d.claims).map(
      ([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td><code>${JSON.stringify(v)}</code></td></tr>
`,
    )}</table>`;
  return renderPage(
    'Test login',
    html`<h1>Test login: ${d.ok ? 'it works' : 'it failed'}</h1>
<p>Tenant <code>${d.tenant}</code>, connection <code>${d.connection}</code>${
      d.version === undefined ? '' : html`, version ${d.version}`
    },
redirect URI <code>${d.redirectUri}</code>. No app received anything.</p>
${back(d, backTo)}
<table>${rows}</table>
${
  d.ok
    ? ''
    : html`<h2>What to fix</h2><p>The step marked ✗ says what the broker got; fix it at the IdP or in the
connection’s settings, then run the test sign-in again.</p>`
}
${claims}
<p class="ref">Request <code>${requestId}</code></p>`,
  );
}
