import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { startMixUpAttackerIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA, redeem, registerAutoLoginTenant, registerTenant, auditedLogins } from '../helpers/scenario.js';

// Account takeover by IdP mix-up (RFC 9700 §4.4), played end to end. The attacker runs the IdP
// of its own tenant ("evil"). It starts a login for the victim's tenant in its own browser and
// keeps that authorization request (client id, PKCE challenge, nonce of ITS session). It then
// gets a victim to follow a login link for "evil": the attacker's authorization endpoint
// bounces the victim into the victim IdP with the attacker's session parameters and the
// victim's state. The victim IdP, where the victim is known, sends a code for the victim back
// to the broker. With one shared callback the broker redeemed that code at the connection the
// state names — the attacker's token endpoint — and the attacker replayed it in its own session:
// a ticket for the victim. With a redirect URI per connection, the code comes back on the
// victim connection's redirect URI, the transaction belongs to "evil", and the broker refuses
// before any IdP sees the code.

const broker = await startBroker(t);
// The victim's IdP does not send RFC 9207 iss, as Entra ID and Google do not: the broker's own
// redirect URIs must be the defence.
const victimIdp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
  strictRedirectUris: true,
  withoutResponseIssuer: true,
});

t.test(
  'mix-up rule: a victim bounced through a hostile tenant IdP yields no code and no ticket to the attacker',
  async (t) => {
    const attacker = await startMixUpAttackerIdp(t);
    const victim = await registerTenant(broker, victimIdp, { method: 'client_secret_post' });
    const victimConnection = (await broker.admin('GET', `/admin/connections/${victim.connectionId}`)).body;
    // The victim's IdP engineer registered what the broker told them (before contract v2: the one shared callback).
    victimIdp.registerRedirectUri(victimConnection.redirectUri ?? broker.config.callbackUrl);

    await broker.admin('POST', '/admin/tenants', { slug: 'evil', name: 'Evil Corp' });
    const evil = await broker.admin('POST', '/admin/tenants/evil/connections', {
      issuer: attacker.issuer,
      clientId: 'evil-client',
      clientSecret: attacker.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    t.equal(evil.status, 201);
    // A relying app open to every organisation (a learning portal), as most are.
    const portal = 'https://portal.example.test/sso/done';
    const app = (await broker.admin('POST', '/admin/apps', { name: 'Portal', returnUrls: [portal] })).body as {
      id: string;
      secret: string;
    };
    const loginUrl = (tenant: string) =>
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: portal, tenant })}`;

    // 1. The attacker starts a login for the victim's organisation and keeps the authorization request.
    const attackerBrowser = new TestBrowser();
    const own = await attackerBrowser.request(loginUrl(victim.tenant));
    t.equal(own.status, 302);
    attacker.state.stolen = new URL(own.headers.get('location')!);
    t.equal(
      attacker.state.stolen.searchParams.get('redirect_uri'),
      victimConnection.redirectUri,
      'the victim connection’s own redirect URI',
    );

    // 2. The victim follows the attacker's link and signs in at the victim's own IdP.
    const victimBrowser = new TestBrowser();
    const atForm = await victimBrowser.follow(loginUrl('evil'), (url) => url.startsWith(portal));
    t.equal(atForm.response.status, 200, 'the victim is at the sign-in form of the victim IdP');
    t.ok(
      victimBrowser.hops.some((hop) => hop.url.startsWith(attacker.issuer)),
      'bounced through the attacker IdP',
    );
    const action = formAction(await atForm.response.text(), victimBrowser.hops.at(-1)!.url);
    const end = await victimBrowser.follow(action, (url) => url.startsWith(portal), {
      form: { login: ADA.claims.email },
      accept: 'application/json',
    });

    // 3. The code arrived on the victim connection's redirect URI with a transaction of "evil": refused.
    const callbackHop = victimBrowser.hops.find((hop) => hop.url.startsWith(victimConnection.redirectUri));
    t.ok(callbackHop, 'the victim IdP sent the code to the victim connection’s redirect URI');
    t.equal(end.url, undefined, 'the victim is not sent anywhere');
    t.equal(end.response.status, 400);
    const page = end.url === undefined ? ((await end.response.json().catch(() => ({}))) as { error?: string }) : {};
    t.equal(page.error, 'callback_mismatch');
    t.equal(attacker.tokenRequests(), 0, 'the attacker’s token endpoint never saw the code');
    t.same(attacker.state.codesReceived, []);
    t.equal(victimIdp.tokenRequests.length, 0, 'nor was it redeemed anywhere');

    // 4. The attacker replays whatever its token endpoint collected, in its own session (the code
    // is bound to the attacker's PKCE challenge and nonce, so this is where a leak would pay off).
    for (const code of attacker.state.codesReceived) {
      const replay = new URL(attacker.state.stolen.searchParams.get('redirect_uri')!);
      replay.searchParams.set('code', code);
      replay.searchParams.set('state', attacker.state.stolen.searchParams.get('state')!);
      const replayed = await attackerBrowser.follow(replay.href, (url) => url.startsWith(portal), {
        accept: 'application/json',
      });
      const ticket = replayed.url ? new URL(replayed.url).searchParams.get('ticket') : null;
      if (ticket)
        t.fail(`account takeover: the attacker holds a ticket for ${(await redeem(broker, app, ticket)).body.login}`);
    }
  },
);

t.test(
  'mix-up rule: a callback on another connection’s redirect URI is refused before any request to an IdP',
  async (t) => {
    const rogue = await startRogueIdp(t, { a: {}, b: {} });
    const a = await registerAutoLoginTenant(broker, {
      slug: 'mixup-a',
      issuer: rogue.issuer('a'),
      clientSecret: rogue.clientSecret,
    });
    const b = await registerAutoLoginTenant(broker, {
      slug: 'mixup-b',
      issuer: rogue.issuer('b'),
      clientSecret: rogue.clientSecret,
    });
    const browser = new TestBrowser();
    const start = await browser.request(
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: a.app.id, return_to: 'https://app.example.test/mixup-a', tenant: 'mixup-a' })}`,
    );
    const authorize = new URL(start.headers.get('location')!);
    t.equal(
      authorize.searchParams.get('redirect_uri'),
      `${broker.config.callbackUrl}/${a.connectionId}`,
      'the authorization request names connection A’s redirect URI',
    );
    const hitsBefore = new Map(rogue.hits);

    const wrong = `${broker.config.callbackUrl}/${b.connectionId}?${new URLSearchParams({ code: 'a-code', state: authorize.searchParams.get('state')! })}`;
    const refused = await browser.request(wrong);
    t.equal(refused.status, 400);
    t.match(await refused.text(), 'callback_mismatch');
    t.same(rogue.hits, hitsBefore, 'no request to any IdP');
    t.equal(rogue.hits.get('a/token'), undefined);
    t.equal(rogue.hits.get('b/token'), undefined);

    // One try per transaction: the cookie is gone, so the right redirect URI cannot finish it either.
    const right = await browser.request(
      `${broker.config.callbackUrl}/${a.connectionId}?${new URLSearchParams({ code: 'a-code', state: authorize.searchParams.get('state')! })}`,
      { accept: 'application/json' },
    );
    t.equal(right.status, 400);
    t.equal(((await right.json()) as { error: string }).error, 'invalid_state');

    const audit = await auditedLogins(broker, 'mixup-a', 1);
    t.match(
      audit.body.logins[0],
      { outcome: 'failure', error: 'callback_mismatch' },
      'the attempt is audited for the connection it was started on',
    );
  },
);

t.test(
  'an IdP still sending to the shared /api/sso/callback is told callback_mismatch, even while a login is pending',
  async (t) => {
    const rogue = await startRogueIdp(t, { shared: {} });
    const tenant = await registerAutoLoginTenant(broker, {
      slug: 'shared-callback',
      issuer: rogue.issuer('shared'),
      clientSecret: rogue.clientSecret,
    });
    // The learner's browser starts a login: its transaction cookie is on /, so it reaches the
    // shared path too, as it does when the IdP still redirects there.
    const browser = new TestBrowser();
    const start = await browser.request(
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: tenant.app.id, return_to: 'https://app.example.test/shared-callback', tenant: 'shared-callback' })}`,
    );
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const shared = `${broker.config.callbackUrl}?${new URLSearchParams({ code: 'a-code', state })}`;
    t.ok((await browser.jar.getCookieString(shared)).includes(state), 'the pending login’s cookie is sent there');

    const json = await browser.request(shared, { accept: 'application/json' });
    t.equal(json.status, 400);
    const body = (await json.json()) as { error: string; error_description: string };
    t.equal(body.error, 'callback_mismatch');
    t.match(body.error_description, `${broker.config.callbackUrl}/<connection id>`);
    t.match(body.error_description, `${broker.url}/api/sso/setup?connection=`, 'where the IdP engineer finds it');
    const page = await browser.request(shared);
    t.equal(page.status, 400);
    const html = await page.text();
    t.match(html, 'callback_mismatch');
    t.match(html, '/api/sso/setup?connection=');
    t.equal(rogue.hits.get('shared/token'), undefined, 'no code is redeemed anywhere');
  },
);
