import { request } from 'node:http';
import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { startIdp } from '../helpers/idp.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { ADA, redeem, verifyDomains } from '../helpers/scenario.js';

// Contract, selector precedence: connection > tenant (query) > tenant subdomain of the Host
// header > login_hint domain. Each tenant's connection has its own client id, so the IdP
// redirect shows which one a login chose.

async function setup(t: { teardown(fn: () => unknown): void }, overrides = {}) {
  const broker = await startBroker(t, { tenantDomain: 'sso.test', ...overrides });
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const connections: Record<string, string> = {};
  for (const slug of ['by-connection', 'by-tenant', 'by-subdomain', 'by-hint']) {
    await broker.admin('POST', '/admin/tenants', { slug, name: slug, domains: [`${slug}.example`] });
    await verifyDomains(broker, slug, [`${slug}.example`]);
    const connection = await broker.admin('POST', `/admin/tenants/${slug}/connections`, {
      issuer: idp.issuer,
      clientId: `client-${slug}`,
      clientSecret: 'secret',
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    connections[slug] = connection.body.id;
  }
  const app = await broker.admin('POST', '/admin/apps', {
    name: 'Routing',
    returnUrls: ['https://app.example.test/cb'],
  });
  return { broker, idp, connections, appId: app.body.id as string };
}

/** GET /api/sso/login with a chosen Host header; returns the client_id the IdP redirect names, or the error. */
function loginVia(broker: TestBroker, params: Record<string, string>, headers: Record<string, string> = {}) {
  const url = new URL(
    `${broker.url}/api/sso/login?${new URLSearchParams({ return_to: 'https://app.example.test/cb', ...params })}`,
  );
  return new Promise<string>((resolve, reject) => {
    const req = request(url, { headers: { accept: 'application/json', ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 302)
          resolve(new URL(res.headers.location!).searchParams.get('client_id') ?? 'no client_id');
        else resolve(`${res.statusCode} ${JSON.parse(body).error}`);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('selector precedence: connection > tenant > subdomain > login_hint', async (t) => {
  const { broker, connections, appId } = await setup(t);
  const port = new URL(broker.url).port;
  const all = {
    app: appId,
    connection: connections['by-connection']!,
    tenant: 'by-tenant',
    login_hint: 'ada@by-hint.example',
  };
  const subdomain = { host: `by-subdomain.sso.test:${port}` };
  t.equal(await loginVia(broker, all, subdomain), 'client-by-connection', 'connection wins over everything');
  const { connection: _c, ...noConnection } = all;
  t.equal(await loginVia(broker, noConnection, subdomain), 'client-by-tenant', 'then the tenant parameter');
  const { tenant: _t, ...hintOnly } = noConnection;
  t.equal(await loginVia(broker, hintOnly, subdomain), 'client-by-subdomain', 'then the subdomain');
  t.equal(await loginVia(broker, hintOnly), 'client-by-hint', 'then the login_hint domain');
  t.equal(
    await loginVia(broker, { app: appId }, { host: `nobody.sso.test:${port}` }),
    '400 unknown_tenant',
    'an unknown subdomain',
  );
  t.equal(
    await loginVia(broker, { app: appId }, { host: `a.by-subdomain.sso.test:${port}` }),
    '400 invalid_request',
    'only one label below TENANT_DOMAIN',
  );
});

t.test('proxy rule: X-Forwarded-Host picks the tenant only when TRUST_PROXY says so', async (t) => {
  const untrusted = await setup(t);
  t.equal(
    await loginVia(untrusted.broker, { app: untrusted.appId }, { 'x-forwarded-host': 'by-subdomain.sso.test' }),
    '400 invalid_request',
    'ignored without TRUST_PROXY',
  );
  const trusted = await setup(t, { trustProxy: true });
  t.equal(
    await loginVia(trusted.broker, { app: trusted.appId }, { 'x-forwarded-host': 'by-subdomain.sso.test' }),
    'client-by-subdomain',
    'believed with TRUST_PROXY',
  );
});

t.test(
  'a login started on a tenant subdomain completes in a real cookie jar: its cookie is set for TENANT_DOMAIN, which covers the callback host',
  async (t) => {
    const broker = await startBroker(t, { tenantDomain: 'localhost' }, { publicHost: 'localhost' });
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
    });
    await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Acme' });
    await broker.admin('POST', '/admin/tenants/acme/connections', {
      issuer: idp.issuer,
      clientId: idp.secretClient.clientId,
      clientSecret: idp.secretClient.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    const returnTo = 'https://app.example.test/cb';
    const app = (await broker.admin('POST', '/admin/apps', { name: 'Sub', returnUrls: [returnTo] })).body as {
      id: string;
      secret: string;
    };
    const port = new URL(broker.url).port;
    const start = `http://acme.localhost:${port}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: returnTo })}`;

    const browser = new TestBrowser();
    const back = await signIn(browser, start, ADA.claims.email, returnTo);
    t.match(
      browser.hops[0],
      { status: 302, location: new RegExp(`^${idp.issuer}/auth\\?`) },
      'straight to the IdP, as the contract says',
    );
    t.ok(back.searchParams.get('ticket'), `ticket issued (${back.searchParams.get('error') ?? 'no error'})`);
    t.equal((await redeem(broker, app, back.searchParams.get('ticket'))).body.tenant, 'acme');
    t.same(
      (await browser.cookieNames(`${broker.url}/api/sso/callback`)).filter((name) => name.startsWith('sso_tx_')),
      [],
      'and the login cookie is cleared at the callback',
    );

    // A login on PUBLIC_URL's own host (within TENANT_DOMAIN) sets it for TENANT_DOMAIN too, so
    // every login start sees all of the browser's pending logins and can bound them.
    const plain = await fetch(
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: returnTo, tenant: 'acme' })}`,
      { redirect: 'manual' },
    );
    t.match(plain.headers.get('set-cookie') ?? '', /Domain=localhost/i);
    // A host outside TENANT_DOMAIN keeps a host-only cookie (a Domain it is not within would be refused).
    const outside = await fetch(
      `http://127.0.0.1:${port}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: returnTo, tenant: 'acme' })}`,
      { redirect: 'manual' },
    );
    t.equal(outside.status, 302);
    t.notMatch(outside.headers.get('set-cookie') ?? '', /Domain=/i);
    const sub = await new Promise<string>((resolve, reject) => {
      request(
        new URL(start.replace(`acme.localhost:${port}`, `127.0.0.1:${port}`)),
        { headers: { host: `acme.localhost:${port}` } },
        (res) => {
          res.resume();
          resolve(String(res.headers['set-cookie'] ?? ''));
        },
      )
        .on('error', reject)
        .end();
    });
    t.match(sub, /Domain=localhost/i, 'a subdomain login sets it for TENANT_DOMAIN');
  },
);
