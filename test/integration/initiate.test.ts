import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Contract: GET /api/sso/initiate — third-party-initiated login (OpenID Connect Core §4).

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const initiateUrl = (params: Record<string, string>) => `${broker.url}/api/sso/initiate?${new URLSearchParams(params)}`;

t.test('the IdP starts a login: the broker runs an ordinary SP-initiated flow and the app gets a ticket', async (t) => {
  const browser = new TestBrowser();
  const first = await browser.request(
    initiateUrl({ iss: idp.issuer, target_link_uri: scenario.returnTo, login_hint: 'ada@acme.example' }),
  );
  t.equal(first.status, 302);
  const authorize = new URL(first.headers.get('location')!);
  t.equal(authorize.origin, idp.issuer);
  t.ok(
    authorize.searchParams.get('state') &&
      authorize.searchParams.get('nonce') &&
      authorize.searchParams.get('code_challenge'),
    'state, nonce and PKCE as for any login',
  );
  t.equal(authorize.searchParams.get('login_hint'), 'ada@acme.example');
  const back = await signIn(browser, first.headers.get('location')!, ADA.claims.email, scenario.returnTo);
  const answer = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
  t.equal(answer.status, 200);
  t.equal(answer.body.tenant, scenario.tenant);
});

t.test(
  'initiate rule: unknown issuer, unregistered or not-allowed target, missing parameters: 400, no redirect',
  async (t) => {
    const other = await registerTenant(broker, idp, { method: 'client_secret_post' });
    const cases: [string, Record<string, string>, string][] = [
      ['unknown issuer', { iss: 'https://evil.example', target_link_uri: scenario.returnTo }, 'unknown_tenant'],
      ['issuer with a trailing slash', { iss: `${idp.issuer}/`, target_link_uri: scenario.returnTo }, 'unknown_tenant'],
      ['unregistered target', { iss: idp.issuer, target_link_uri: 'https://evil.example/cb' }, 'invalid_return_to'],
      [
        'target differing by a slash',
        { iss: idp.issuer, target_link_uri: `${scenario.returnTo}/` },
        'invalid_return_to',
      ],
      ['no iss', { target_link_uri: scenario.returnTo }, 'invalid_request'],
      ['no target', { iss: idp.issuer }, 'invalid_request'],
    ];
    for (const [what, params, code] of cases) {
      const response = await fetch(initiateUrl(params), {
        redirect: 'manual',
        headers: { accept: 'application/json' },
      });
      t.equal(response.status, 400, what);
      t.equal(response.headers.get('location'), null, `${what}: no redirect`);
      t.equal(((await response.json()) as { error: string }).error, code, `${what}: ${code}`);
    }
    // Both tenants use the same IdP; each app is allowed only for its own tenant, so each target
    // resolves to its own tenant.
    const response = await fetch(initiateUrl({ iss: idp.issuer, target_link_uri: other.returnTo }), {
      redirect: 'manual',
    });
    t.equal(response.status, 302, 'a shared issuer resolves through the app allowed for one tenant');
  },
);

t.test('initiate rule: a target whose app is not allowed for any tenant of that issuer is refused', async (t) => {
  const lonely = await broker.admin('POST', '/admin/tenants', { slug: 'lonely', name: 'Lonely' });
  t.equal(lonely.status, 201);
  const app = await broker.admin('POST', '/admin/apps', {
    name: 'Lonely app',
    returnUrls: ['https://lonely.example/cb'],
    tenants: ['lonely'],
  });
  t.equal(app.status, 201);
  const response = await fetch(initiateUrl({ iss: idp.issuer, target_link_uri: 'https://lonely.example/cb' }), {
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  t.equal(response.status, 400);
  t.equal(((await response.json()) as { error: string }).error, 'tenant_not_allowed');
});
