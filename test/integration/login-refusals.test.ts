import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant, verifyDomains } from '../helpers/scenario.js';

// GET /api/sso/login failures: a 400 page (or JSON), never a redirect to an unregistered URL.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });

async function login(params: Record<string, string>, accept = 'application/json') {
  const response = await fetch(`${broker.url}/api/sso/login?${new URLSearchParams(params)}`, {
    redirect: 'manual',
    headers: { accept },
  });
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    text,
    json: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

const base = () => ({ app: scenario.app.id, return_to: scenario.returnTo, tenant: scenario.tenant });

t.test(
  'return_to rule: only an exact registered URL is accepted; every variant gets 400 and no redirect',
  async (t) => {
    const registered = scenario.returnTo; // https://app-<slug>.example.test/sso/done?from=broker
    const url = new URL(registered);
    const variants = [
      registered.replace(url.host, 'evil.example'),
      registered.replace('https://', 'https://user@'),
      registered.replace('https://', `https://${url.host}@evil.example/`),
      registered.replace('https://', 'http://'),
      registered.replace('/sso/done', '/sso/done/'),
      registered.replace('/sso/done', '/sso/done/../done'),
      registered.replace('/sso/done', '/sso/Done'),
      registered.replace(url.host, url.host.toUpperCase()),
      registered.replace('/sso/done', '/sso/%64one'),
      registered.replace('/sso/done', '/sso\\done'),
      registered.replace('https://', '//'),
      `${registered}&extra=1`,
      registered.replace('?from=broker', ''),
      `${registered}#frag`,
      registered.replace(url.host, `${url.host}.evil.example`),
      `${registered} `,
    ];
    for (const returnTo of variants) {
      const answer = await login({ ...base(), return_to: returnTo });
      t.equal(answer.status, 400, `refused: ${returnTo}`);
      t.equal(answer.location, null, 'no redirect');
      t.equal(answer.json.error, 'invalid_return_to');
    }
    t.equal((await login(base())).status, 302, 'the registered URL itself is accepted');
  },
);

t.test('an unknown app, unknown tenant or missing parameter gets 400 with a page or JSON', async (t) => {
  const unknownApp = await login({ ...base(), app: 'no-such-app' });
  t.match(unknownApp, { status: 400, location: null, json: { error: 'unknown_app', error_description: String } });
  const unknownTenant = await login({ ...base(), tenant: 'no-such-tenant' });
  t.match(unknownTenant, { status: 400, location: null, json: { error: 'unknown_tenant' } });
  const unknownConnection = await login({
    app: scenario.app.id,
    return_to: scenario.returnTo,
    connection: 'no-such-connection',
  });
  t.match(unknownConnection, { status: 400, location: null });
  const noSelector = await login({ app: scenario.app.id, return_to: scenario.returnTo });
  t.match(noSelector, { status: 400, location: null, json: { error: 'invalid_request' } });
  const missingReturnTo = await login({ app: scenario.app.id, tenant: scenario.tenant });
  t.match(missingReturnTo, { status: 400, location: null, json: { error: 'invalid_request' } });
  const longState = await login({ ...base(), state: 'x'.repeat(513) });
  t.match(longState, { status: 400, location: null });

  const page = await login({ ...base(), tenant: 'no-such-tenant' }, 'text/html');
  t.equal(page.status, 400);
  t.match(page.headers.get('content-type'), /text\/html/);
  t.match(page.text, /<html lang="en">/);
  t.match(page.text, /unknown_tenant/, 'the page shows the reference code');
  t.match(page.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  t.match(
    page.text,
    page.headers.get('x-request-id')!,
    'and the request id, which every log line of the request carries',
  );
  t.match(page.headers.get('content-security-policy'), /default-src 'none'/, 'HTML pages carry a strict CSP');
  t.equal(page.headers.get('x-frame-options'), 'DENY');
});

t.test('an app not allowed for the tenant, or a tenant without an enabled connection, gets 400', async (t) => {
  const otherTenant = await broker.admin('POST', '/admin/tenants', { slug: 'other-org', name: 'Other' });
  t.equal(otherTenant.status, 201);
  const notAllowed = await login({ ...base(), tenant: 'other-org' });
  t.match(notAllowed, { status: 400, location: null, json: { error: 'tenant_not_allowed' } });

  const open = await broker.admin('POST', '/admin/apps', {
    name: 'Open app',
    returnUrls: ['https://open.example.test/cb'],
  });
  const noConnection = await login({
    app: open.body.id,
    return_to: 'https://open.example.test/cb',
    tenant: 'other-org',
  });
  t.match(noConnection, { status: 400, location: null, json: { error: 'no_connection' } });

  // The learner's pages name the organisation once it is known, and say what to do and tell.
  const notAllowedPage = await login({ ...base(), tenant: 'other-org' }, 'text/html');
  t.match(notAllowedPage.text, '<h1>This application is not enabled for Other</h1>');
  t.match(
    notAllowedPage.text,
    /What you can do[\s\S]*If you need help[\s\S]*Organisation: Other · Reference: <code>tenant_not_allowed<\/code>/,
  );
  const noConnectionPage = await login(
    { app: open.body.id, return_to: 'https://open.example.test/cb', tenant: 'other-org' },
    'text/html',
  );
  t.match(noConnectionPage.text, '<h1>Single sign-on is not set up for Other yet</h1>');
  t.match(noConnectionPage.text, 'Tell your IT team: the organisation has no enabled identity-provider connection.');
  const unknownPage = await login({ ...base(), tenant: 'no-such-org' }, 'text/html');
  t.notMatch(unknownPage.text, 'Organisation:', 'no organisation named when none is known');

  const disabled = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { enabled: false });
  t.equal(disabled.status, 200);
  const answer = await login(base());
  t.match(answer, { status: 400, location: null, json: { error: 'no_connection' } });
  await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { enabled: true });
  t.equal((await login(base())).status, 302, 'enabled again: the login starts');
});

t.test('selectors: connection id selects tenant and IdP; login_hint selects by email domain', async (t) => {
  const byConnection = await login({
    app: scenario.app.id,
    return_to: scenario.returnTo,
    connection: scenario.connectionId,
  });
  t.equal(byConnection.status, 302);
  t.ok(byConnection.location?.startsWith(idp.issuer));
  await broker.admin('PATCH', `/admin/tenants/${scenario.tenant}`, { domains: ['acme.example'] });
  await verifyDomains(broker, scenario.tenant, ['acme.example']);
  const byHint = await login({ app: scenario.app.id, return_to: scenario.returnTo, login_hint: 'ada@ACME.example' });
  t.equal(byHint.status, 302, 'the email domain routes to the tenant');
  const unknownDomain = await login({
    app: scenario.app.id,
    return_to: scenario.returnTo,
    login_hint: 'ada@unknown.example',
  });
  t.match(unknownDomain, { status: 400, json: { error: 'unknown_tenant' } });
});

t.test('an unreachable IdP sends the learner back to the verified return URL with idp_error', async (t) => {
  const tenant = await broker.admin('POST', '/admin/tenants', { slug: 'down-org', name: 'Down' });
  t.equal(tenant.status, 201);
  const connection = await broker.admin('POST', '/admin/tenants/down-org/connections', {
    issuer: 'http://127.0.0.1:9',
    clientId: 'x',
    clientSecret: 'y',
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  t.equal(connection.status, 201);
  const open = await broker.admin('POST', '/admin/apps', {
    name: 'Open',
    returnUrls: ['https://open2.example.test/cb'],
  });
  const back = await login({
    app: open.body.id,
    return_to: 'https://open2.example.test/cb',
    tenant: 'down-org',
    state: 'st',
  });
  t.equal(back.status, 302);
  const location = new URL(back.location!);
  t.equal(location.origin + location.pathname, 'https://open2.example.test/cb');
  t.equal(location.searchParams.get('error'), 'idp_error');
  t.equal(location.searchParams.get('state'), 'st');
});

t.test('the login cookie is Secure when PUBLIC_URL is https', async (t) => {
  const secureBroker = await startBroker(t, { secureCookies: true });
  const secureIdp = await startIdp(t, {
    redirectUri: secureBroker.config.callbackUrl,
    brokerJwks: secureBroker.keys.jwks(),
    accounts: [ADA],
  });
  const s = await registerTenant(secureBroker, secureIdp, { method: 'client_secret_post' });
  const response = await new TestBrowser().request(s.loginUrl());
  t.match(response.headers.getSetCookie().join(''), /; Secure/);
});
