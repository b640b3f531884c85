import type { FastifyInstance } from 'fastify';
import { html } from '../browser/html.js';
import { renderPage, sendPage } from '../browser/pages.js';

/**
 * `/`: what this service is, for whoever opens its address — the way to the console for
 * operators, and the setup page and guide for IdP engineers. Learners never start here (their
 * app sends them), so it says so. A static page: no session, no form, no script.
 */
export function landingPage(): string {
  return renderPage(
    'SSO broker',
    html`<h1>SSO broker</h1>
<p>This service signs learners in to their learning apps through their own organisation’s identity provider
(OpenID Connect). Learners do not start here: their app sends them, and brings them back once they are signed in.</p>
<h2>Operators</h2>
<p><a href="/console">Open the console</a> to manage tenants, their connections and setup links, apps, and to find
a learner’s sign-in by the request id on their error page.</p>
<h2>IdP engineers</h2>
<p>The operator sends you a setup link: it walks you through registering this broker at your identity provider,
testing a sign-in and activating it. What to register, without a link: the <a href="/api/sso/setup">setup page</a>.
The broker’s documentation has a guide for you, <code>docs/idp-engineers.md</code>.</p>
<h2>App developers</h2>
<p>The HTTP API, ticket redemption included: the <a href="/admin/reference/">API reference</a>.</p>`,
  );
}

export async function landingRoutes(app: FastifyInstance) {
  app.get('/', async (_request, reply) => sendPage(reply, 200, landingPage()));
}
