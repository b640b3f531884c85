import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, GRACE, redeem, registerTenant } from '../helpers/scenario.js';

// The whole journey through the real HTTP surface: browser → broker → oidc-provider → broker →
// app's return URL with a ticket → server-to-server redemption.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA, GRACE],
});

for (const method of ['client_secret_post', 'private_key_jwt'] as const) {
  t.test(`${method}: a learner signs in and the app redeems the ticket once`, async (t) => {
    const scenario = await registerTenant(broker, idp, { method });
    const browser = new TestBrowser();
    const back = await signIn(
      browser,
      scenario.loginUrl({ state: 'app-state-42' }),
      ADA.claims.email,
      scenario.returnTo,
    );

    t.equal(back.origin + back.pathname, scenario.returnTo.split('?')[0], 'back at the registered return URL');
    t.equal(back.searchParams.get('from'), 'broker', "return_to's own query parameters are kept");
    t.equal(back.searchParams.get('state'), 'app-state-42', "the app's state comes back unchanged");
    t.notOk(back.searchParams.get('error'), 'no error');
    const ticket = back.searchParams.get('ticket');
    t.ok(ticket, 'a ticket');
    t.ok(Buffer.from(ticket!, 'base64url').length >= 32, 'the ticket has at least 256 bits');

    const first = await redeem(broker, scenario.app, ticket);
    t.equal(first.status, 200);
    t.match(first.body, {
      tenant: scenario.tenant,
      connection: scenario.connectionId,
      issuer: idp.issuer,
      subject: ADA.sub,
      login: ADA.claims.email,
      email: ADA.claims.email,
      emailVerified: true,
      name: 'Ada Lovelace',
      groups: ['engineers', 'admins'],
      session: String,
      authenticatedAt: String,
    });
    t.equal(first.body.claims.sub, ADA.sub, 'the validated ID token claims are included');
    t.equal(
      first.body.claims.aud,
      method === 'client_secret_post' ? idp.secretClient.clientId : idp.jwtClient.clientId,
    );

    const second = await redeem(broker, scenario.app, ticket);
    t.match(
      second,
      { status: 400, body: { error: 'invalid_ticket', error_description: String, request_id: String } },
      'a ticket redeems exactly once',
    );
  });
}

t.test('the authorization request carries PKCE S256, nonce, state and the registered redirect URI', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const browser = new TestBrowser();
  const response = await browser.request(scenario.loginUrl({ login_hint: 'ada@acme.example' }));
  t.equal(response.status, 302);
  const location = new URL(response.headers.get('location')!);
  t.equal(location.origin, idp.issuer);
  const p = location.searchParams;
  t.equal(p.get('response_type'), 'code');
  t.equal(p.get('client_id'), idp.secretClient.clientId);
  t.equal(
    p.get('redirect_uri'),
    `${broker.config.callbackUrl}/${scenario.connectionId}`,
    "the connection's own redirect URI",
  );
  t.equal(p.get('scope'), 'openid email profile');
  t.equal(p.get('code_challenge_method'), 'S256');
  t.match(p.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  t.ok(Buffer.from(p.get('state')!, 'base64url').length >= 16, 'state has at least 128 bits');
  t.ok(Buffer.from(p.get('nonce')!, 'base64url').length >= 16, 'nonce has at least 128 bits');
  t.equal(p.get('login_hint'), 'ada@acme.example', 'login_hint is passed on');
  const setCookie = response.headers.getSetCookie().join('\n');
  t.match(setCookie, /HttpOnly/i, 'the transaction cookie is HttpOnly');
  t.match(setCookie, /SameSite=Lax/i, 'and SameSite=Lax');
  t.notMatch(setCookie, /Secure/i, 'not Secure on an http PUBLIC_URL');
});

t.test('login from preferred_username when the IdP sends no email; emailVerified null', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), GRACE.claims.preferred_username, scenario.returnTo);
  const answer = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
  t.equal(answer.status, 200);
  t.equal(answer.body.login, 'grace@acme.example');
  t.notOk('email' in answer.body, 'no email field when the IdP sent none');
  t.equal(answer.body.emailVerified, null);
});

t.test('the IdP refusing the sign-in sends the learner back with error=access_denied', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const back = await signIn(
    new TestBrowser(),
    scenario.loginUrl({ state: 's1' }),
    'nobody@acme.example',
    scenario.returnTo,
  );
  t.equal(back.searchParams.get('error'), 'access_denied');
  t.equal(back.searchParams.get('state'), 's1');
  t.notOk(back.searchParams.get('ticket'));
});

t.test('discovery and JWKS are fetched once per connection, not per login', async (t) => {
  const fresh = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, fresh, { method: 'client_secret_post' });
  for (let i = 0; i < 4; i++) {
    const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
    t.ok(back.searchParams.get('ticket'), `login ${i + 1}`);
  }
  t.equal(fresh.requests.get('/token'), 4, 'four code exchanges');
  t.equal(fresh.requests.get('/.well-known/openid-configuration'), 1, 'one discovery');
  t.equal(fresh.requests.get('/jwks'), 1, 'one JWKS fetch');

  // A changed connection is a new configuration: discovered again on the next login.
  const patched = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, {
    scopes: ['offline_access'],
  });
  t.equal(patched.status, 200);
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  t.ok(back.searchParams.get('ticket'));
  t.equal(fresh.requests.get('/.well-known/openid-configuration'), 2, 'rediscovered after the change');
});
