import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs, refreshTarget, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Contract v3, setup links: the IdP engineer drafts, validates, test-signs-in and activates a
// connection alone, through a bearer link for one tenant's connection.

const logs: string[] = [];
const broker = await startBroker(t, { logLevel: 'info' }, { captureLogs: logs });
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});

async function newTenant(slug: string) {
  t.equal((await broker.admin('POST', '/admin/tenants', { slug, name: `Org ${slug}` })).status, 201);
}

/** The setup page as a browser gets it; its form fields (CSRF token included). */
async function page(browser: TestBrowser, url: string) {
  const response = await browser.request(url);
  const html = await response.text();
  return { response, html, hidden: hiddenInputs(html) };
}

async function post(
  browser: TestBrowser,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const cookie = await browser.jar.getCookieString(url);
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }), ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** The page a form's 303 leads to. */
async function follow(browser: TestBrowser, url: string, response: Response) {
  return (await browser.request(new URL(response.headers.get('location')!, url).href)).text();
}

/**
 * Runs a test sign-in from the page's test button, in this browser: the answer is a page that
 * continues to the IdP (with this browser's transaction cookie); the diagnostics page's text.
 */
async function testSignIn(browser: TestBrowser, url: string, csrf: string) {
  const started = await browser.request(`${url}/test-login`, { form: { csrf } });
  t.equal(started.status, 200);
  const idp = refreshTarget(await started.text(), url);
  if (!idp) throw new Error('the test sign-in did not continue to the IdP');
  const first = await browser.follow(idp, () => false);
  const action = formAction(await first.response.text(), browser.hops.at(-1)!.url);
  const done = await browser.follow(action, () => false, { form: { login: ADA.claims.email as string } });
  return done.response.text();
}

t.test('an IdP engineer sets up a new connection alone: draft, validation, test sign-in, activation', async (t) => {
  await newTenant('setup-org');
  const created = await broker.admin('POST', '/admin/tenants/setup-org/setup-links', { note: 'for Ada' });
  t.equal(created.status, 201);
  t.match(created.body, { id: String, url: new RegExp(`^${broker.url}/setup/[A-Za-z0-9_-]{43}$`), expiresAt: String });
  const hours = (Date.parse(created.body.expiresAt) - Date.now()) / 3_600_000;
  t.ok(hours > 167 && hours <= 168, 'expires in 7 days by default');
  const url: string = created.body.url;
  const token = url.split('/').at(-1)!;
  const connectionId: string = created.body.connection;

  const listed = await broker.admin('GET', '/admin/tenants/setup-org/setup-links');
  t.match(listed.body.links, [{ id: created.body.id, connection: connectionId, note: 'for Ada' }]);
  t.notOk(JSON.stringify(listed.body).includes(token), 'the token is never listed');

  const browser = new TestBrowser();
  const opened = await page(browser, `${url}?idp=okta&method=client_secret_post`);
  t.equal(opened.response.status, 200);
  t.equal(opened.response.headers.get('cache-control'), 'no-store');
  t.equal(opened.response.headers.get('referrer-policy'), 'no-referrer');
  t.match(opened.response.headers.get('content-security-policy'), /form-action 'self'/);
  t.match(opened.html, `${broker.config.callbackUrl}/${connectionId}`, 'this connection’s own redirect URI');
  t.match(opened.html, 'Okta');
  t.equal((await broker.admin('GET', '/admin/tenants/setup-org/setup-links')).body.links[0].usedAt !== undefined, true);

  // Step 3: hand back. A bad issuer is explained, and nothing is saved.
  const form = { ...opened.hidden, issuer: 'not a url', clientId: idp.secretClient.clientId, clientSecret: 'x' };
  const refused = await post(browser, `${url}/draft`, form);
  t.equal(refused.status, 400);
  t.match(await refused.text(), 'Please fix');
  const saved = await post(browser, `${url}/draft`, {
    ...opened.hidden,
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: idp.secretClient.clientSecret,
    clientSecretExpiresAt: '2031-05-01',
  });
  t.equal(saved.status, 303, 'saved, then redirected: a reload saves nothing twice');
  const savedHtml = await follow(browser, url, saved);
  t.match(savedHtml, 'Saved as version 1');
  t.match(savedHtml, 'every check passed');
  t.notOk(savedHtml.includes(idp.secretClient.clientSecret), 'the secret is never shown back');
  t.match(savedHtml, 'A secret is set');
  const versions = await broker.admin('GET', `/admin/connections/${connectionId}/versions`);
  t.match(versions.body.versions, [
    {
      version: 1,
      status: 'draft',
      createdBy: 'setup-link',
      hasClientSecret: true,
      clientSecretExpiresAt: '2031-05-01T23:59:59.000Z',
    },
  ]);
  t.equal((await broker.admin('GET', `/admin/connections/${connectionId}`)).status, 404, 'nothing is live yet');

  // Activation waits for a successful test sign-in of this draft.
  const early = await post(browser, `${url}/activate`, { csrf: opened.hidden.csrf! });
  t.equal(early.status, 409);
  const diagnostics = await testSignIn(browser, url, opened.hidden.csrf!);
  t.match(diagnostics, 'it works');
  const activated = await post(browser, `${url}/activate`, { csrf: opened.hidden.csrf! });
  t.equal(activated.status, 303);
  t.match(await follow(browser, url, activated), 'Version 1 is active');

  // Learners can sign in through the new connection at once.
  const connection = await broker.admin('GET', `/admin/connections/${connectionId}`);
  t.match(connection.body, { tenant: 'setup-org', issuer: idp.issuer, hasClientSecret: true, isDefault: true });
  const app = await broker.admin('POST', '/admin/apps', { name: 'A', returnUrls: ['https://a.example.test/done'] });
  const login = `${broker.url}/api/sso/login?app=${app.body.id}&tenant=setup-org&return_to=https://a.example.test/done`;
  const back = await signIn(new TestBrowser(), login, ADA.claims.email as string, 'https://a.example.test/done');
  t.ok(back.searchParams.get('ticket'), 'a learner signs in');

  const actions = logs
    .map((line) => JSON.parse(line) as { setupLink?: string; action?: string })
    .filter((entry) => entry.setupLink === created.body.id && entry.action !== undefined)
    .map((entry) => entry.action);
  t.same(actions, ['opened', 'chose', 'draft saved', 'test run', 'activated'], 'every action of the link is logged');
  t.notOk(
    logs.some((line) => line.includes(token)),
    'the token never reaches a log',
  );
});

t.test('a link is for one tenant’s connection, and stops at once when revoked or expired', async (t) => {
  await newTenant('link-a');
  const other = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const stolen = await broker.admin('POST', '/admin/tenants/link-a/setup-links', { connection: other.connectionId });
  t.equal(stolen.status, 404, 'another tenant’s connection is unknown here');
  t.equal((await broker.admin('POST', '/admin/tenants/nope/setup-links', {})).status, 404);
  t.equal((await broker.admin('POST', '/admin/tenants/link-a/setup-links', { expiresInHours: 0 })).status, 400);

  // A link for an existing connection drafts over its active version, and never shows its secret.
  const own = await broker.admin('POST', `/admin/tenants/${other.tenant}/setup-links`, {
    connection: other.connectionId,
  });
  const browser = new TestBrowser();
  const opened = await page(browser, own.body.url);
  t.match(opened.html, `value="${idp.issuer}"`, 'the active settings prefill the form');
  t.notOk(opened.html.includes(idp.secretClient.clientSecret));
  const kept = await post(browser, `${own.body.url}/draft`, {
    ...opened.hidden,
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
  });
  t.equal(kept.status, 303);
  t.match((await broker.admin('GET', `/admin/connections/${other.connectionId}/versions`)).body.versions[0], {
    version: 2,
    status: 'draft',
    hasClientSecret: true,
  });

  // Forms from elsewhere are refused.
  t.equal((await post(browser, `${own.body.url}/draft`, { issuer: idp.issuer })).status, 403, 'no CSRF token');
  const foreign = await post(browser, `${own.body.url}/activate`, opened.hidden, { origin: 'https://evil.example' });
  t.equal(foreign.status, 403, 'another origin');

  t.equal((await broker.admin('DELETE', `/admin/setup-links/${own.body.id}`)).status, 204);
  t.equal((await page(browser, own.body.url)).response.status, 404, 'revoked: the page stops at once');
  t.equal((await post(browser, `${own.body.url}/draft`, opened.hidden)).status, 404);
  t.equal((await broker.admin('DELETE', '/admin/setup-links/00000000-0000-4000-8000-000000000000')).status, 404);

  const expiring = await broker.admin('POST', `/admin/tenants/link-a/setup-links`, { expiresInHours: 1 });
  await broker.database.pool.query(`UPDATE setup_links SET expires_at = now() - interval '1 second' WHERE id = $1`, [
    expiring.body.id,
  ]);
  t.equal((await page(browser, expiring.body.url)).response.status, 404, 'expired');
  t.equal((await page(browser, `${broker.url}/setup/not-a-token`)).response.status, 404);
});

t.test('what a link holder enters obeys the IdP network policy, as the admin API does', async (t) => {
  const strict = await startBroker(t, { idpPrivateNetworks: [] });
  t.equal((await strict.admin('POST', '/admin/tenants', { slug: 'strict-org', name: 'Strict' })).status, 201);
  const link = await strict.admin('POST', '/admin/tenants/strict-org/setup-links', {});
  const browser = new TestBrowser();
  const opened = await page(browser, `${link.body.url}?idp=other&method=client_secret_post`);
  const before = idp.requests.get('/.well-known/openid-configuration') ?? 0;
  const saved = await post(browser, `${link.body.url}/draft`, {
    ...opened.hidden,
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: idp.secretClient.clientSecret,
  });
  const html = await follow(browser, link.body.url, saved);
  t.match(html, 'some checks failed');
  // The refusal, without the address or the policy's details (those are the operators').
  t.match(html, 'not allowed by the network policy');
  t.notMatch(html, /127\.0\.0\.1 is a loopback address|IDP_PRIVATE_NETWORKS/);
  t.equal(idp.requests.get('/.well-known/openid-configuration') ?? 0, before, 'the IdP was never asked');
  // Nor can the draft be tested into activation: its test sign-in is refused the same way.
  const activate = await post(browser, `${link.body.url}/activate`, { csrf: opened.hidden.csrf! });
  t.equal(activate.status, 409);
});

t.test('setup pages have their own rate limit', async (t) => {
  const limited = await startBroker(t, { rateLimitPerMinute: 3 });
  t.equal((await limited.admin('POST', '/admin/tenants', { slug: 'busy-org', name: 'Busy' })).status, 201);
  const link = await limited.admin('POST', '/admin/tenants/busy-org/setup-links', {});
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(link.body.url)).status);
  t.same(statuses, [200, 200, 200, 429]);
  t.equal((await fetch(`${limited.url}/setup/${'x'.repeat(43)}`)).status, 429, 'guessing tokens is limited too');
  t.equal((await fetch(`${limited.url}/api/sso/setup`)).status, 200, 'the other pages count apart');
});
