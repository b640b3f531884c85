import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA, redeem, registerAutoLoginTenant, registerTenant } from '../helpers/scenario.js';

// Contract: GET /api/sso/logout — RP-initiated logout through the IdP's end_session_endpoint.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const logoutUrl = (params: Record<string, string>) => `${broker.url}/api/sso/logout?${new URLSearchParams(params)}`;

async function signedInSession(browser: TestBrowser) {
  const back = await signIn(browser, scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const answer = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
  return answer.body.session as string;
}

t.test('logout goes through the IdP with id_token_hint and comes back to the app', async (t) => {
  const browser = new TestBrowser();
  const session = await signedInSession(browser);
  const first = await browser.request(
    logoutUrl({ app: scenario.app.id, session, post_logout_redirect_uri: scenario.returnTo }),
  );
  t.equal(first.status, 302);
  const endSession = new URL(first.headers.get('location')!);
  t.equal(endSession.origin + endSession.pathname, `${idp.issuer}/session/end`);
  t.equal(endSession.searchParams.get('client_id'), idp.secretClient.clientId);
  t.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${broker.url}/api/sso/logout/done`);
  const hint = endSession.searchParams.get('id_token_hint')!;
  t.equal(
    JSON.parse(Buffer.from(hint.split('.')[1]!, 'base64url').toString()).sub,
    ADA.sub,
    'the session’s own ID token as the hint',
  );

  // The IdP asks the learner to confirm, then sends the browser to the broker, then to the app.
  const confirm = await browser.request(endSession.href);
  const page = await confirm.text();
  const done = await browser.follow(formAction(page, endSession.href), (url) => url.startsWith(scenario.returnTo), {
    form: { ...hiddenInputs(page), logout: 'yes' },
  });
  t.equal(done.url, scenario.returnTo, 'back at the app’s registered URL');
  t.ok(
    browser.hops.some((hop) => hop.url.startsWith(`${broker.url}/api/sso/logout/done`)),
    'through the broker’s post-logout URL',
  );

  const again = await fetch(logoutUrl({ app: scenario.app.id, session, post_logout_redirect_uri: scenario.returnTo }), {
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  t.equal(again.status, 400, 'a session signs out once');
  t.equal(((await again.json()) as { error: string }).error, 'unknown_session');
});

t.test(
  'logout rule: unregistered URL, unknown or foreign session, missing parameters: 400 and no redirect',
  async (t) => {
    const session = await signedInSession(new TestBrowser());
    const other = await registerTenant(broker, idp, { method: 'client_secret_post' });
    const cases: [string, Record<string, string>, string][] = [
      [
        'unregistered URL',
        { app: scenario.app.id, session, post_logout_redirect_uri: 'https://evil.example/' },
        'invalid_return_to',
      ],
      [
        'URL differing by a slash',
        { app: scenario.app.id, session, post_logout_redirect_uri: `${scenario.returnTo}/` },
        'invalid_return_to',
      ],
      [
        'unknown session',
        { app: scenario.app.id, session: 'nope', post_logout_redirect_uri: scenario.returnTo },
        'unknown_session',
      ],
      [
        'another app’s session',
        { app: other.app.id, session, post_logout_redirect_uri: other.returnTo },
        'unknown_session',
      ],
      ['unknown app', { app: 'nope', session, post_logout_redirect_uri: scenario.returnTo }, 'unknown_app'],
      ['no session', { app: scenario.app.id, post_logout_redirect_uri: scenario.returnTo }, 'invalid_request'],
    ];
    for (const [what, params, code] of cases) {
      const response = await fetch(logoutUrl(params), { redirect: 'manual', headers: { accept: 'application/json' } });
      t.equal(response.status, 400, what);
      t.equal(response.headers.get('location'), null, `${what}: no redirect`);
      t.equal(((await response.json()) as { error: string }).error, code, `${what}: ${code}`);
    }
    const forged = await fetch(`${broker.url}/api/sso/logout/done?state=forged`, { redirect: 'manual' });
    t.equal(forged.status, 400, 'a forged post-logout state is refused');
    const stillThere = await fetch(
      logoutUrl({ app: scenario.app.id, session, post_logout_redirect_uri: scenario.returnTo }),
      { redirect: 'manual' },
    );
    t.equal(stillThere.status, 302, 'the refused attempts did not end the session');
  },
);

t.test('an IdP without end_session_endpoint: straight back to the app', async (t) => {
  const rogue = await startRogueIdp(t, { plain: {} });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'no-end-session',
    issuer: rogue.issuer('plain'),
    clientSecret: rogue.clientSecret,
  });
  const { ticket } = await tenant.login();
  const session = (await redeem(broker, tenant.app, ticket)).body.session;
  const response = await fetch(
    logoutUrl({ app: tenant.app.id, session, post_logout_redirect_uri: 'https://app.example.test/no-end-session' }),
    { redirect: 'manual' },
  );
  t.equal(response.status, 302);
  t.equal(response.headers.get('location'), 'https://app.example.test/no-end-session');
});

t.test(
  'logout rule: after the connection moved to another IdP, the old ID token is not sent to the new one',
  async (t) => {
    // A setup-link holder (or an admin) points the connection at another IdP after Ada signed in.
    const rogue = await startRogueIdp(t, {
      successor: { discovery: (doc) => ({ ...doc, end_session_endpoint: `${String(doc.issuer)}/session/end` }) },
    });
    const moved = await registerTenant(broker, idp, { method: 'client_secret_post' });
    const back = await signIn(new TestBrowser(), moved.loginUrl(), ADA.claims.email, moved.returnTo);
    const session = (await redeem(broker, moved.app, back.searchParams.get('ticket'))).body.session as string;
    const patched = await broker.admin('PATCH', `/admin/connections/${moved.connectionId}`, {
      issuer: rogue.issuer('successor'),
      clientId: 'successor-client',
      clientSecret: rogue.clientSecret,
    });
    t.equal(patched.status, 200, 'the connection now points at another IdP');

    const response = await fetch(logoutUrl({ app: moved.app.id, session, post_logout_redirect_uri: moved.returnTo }), {
      redirect: 'manual',
    });
    t.equal(response.status, 302);
    t.equal(response.headers.get('location'), moved.returnTo, 'straight back to the app');
    t.equal(rogue.hits.get('successor/session/end'), undefined, 'the new IdP never saw the session');
    t.notOk(response.headers.get('location')?.includes('id_token_hint'), 'no ID token handed out');
  },
);
