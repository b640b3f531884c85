import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs, refreshTarget } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { startMixUpAttackerIdp } from '../helpers/rogue-idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Mix-up inside one connection, through its versions (RFC 9700 §4.4 between versions instead of
// between connections). A draft and the active version share the connection's redirect URI, so
// that URI cannot tell which version's IdP issued a code. The holder of a setup link drafts a
// version that points at their own IdP, whose authorization endpoint bounces every browser into
// the tenant's real IdP with a request the attacker stole from its own session. The real IdP
// (no RFC 9207 `iss`, as Entra ID and Google) sends a victim's code to the connection's redirect
// URI; if a transaction of the draft finishes there, the code goes to the draft's (attacker's)
// token endpoint, and the attacker replays it in its own session: a ticket for the victim.
// Two rules stop it, each played here: a test sign-in started from a setup link exists only in
// the holder's browser (no URL another browser can open), and a transaction finishes only with
// the settings (issuer, discovery URL, client) of the version it was started for.

const broker = await startBroker(t);
const victimIdp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
  strictRedirectUris: true,
  withoutResponseIssuer: true,
});

/** The victim's organisation, its app, and a setup link for its live connection in the attacker's hands. */
async function victimTenantWithLink() {
  const victim = await registerTenant(broker, victimIdp, { method: 'client_secret_post' });
  const connection = (await broker.admin('GET', `/admin/connections/${victim.connectionId}`)).body;
  victimIdp.registerRedirectUri(connection.redirectUri);
  const link = await broker.admin('POST', `/admin/tenants/${victim.tenant}/setup-links`, {
    connection: victim.connectionId,
  });
  t.equal(link.status, 201);
  return { victim, linkUrl: link.body.url as string, redirectUri: connection.redirectUri as string };
}

/** The setup-link holder saves a draft pointing at `issuer`; returns the page's CSRF token. */
async function saveDraft(holder: TestBrowser, linkUrl: string, issuer: string, clientSecret: string) {
  const csrf = hiddenInputs(await (await holder.request(linkUrl)).text()).csrf!;
  const saved = await holder.request(`${linkUrl}/draft`, {
    form: {
      csrf,
      idp: 'generic',
      tokenEndpointAuthMethod: 'client_secret_post',
      issuer,
      discoveryUrl: '',
      clientId: 'attacker-client',
      clientSecret,
    },
  });
  t.equal(saved.status, 303, 'draft saved');
  return csrf;
}

/** The victim signs in at its own IdP's form from wherever `url` leads; the browser's last answer. */
async function victimSignsIn(victimBrowser: TestBrowser, url: string) {
  const atForm = await victimBrowser.follow(url, () => false);
  if (atForm.response.status !== 200 || !victimBrowser.hops.at(-1)!.url.startsWith(victimIdp.issuer)) {
    return atForm.response;
  }
  const action = formAction(await atForm.response.text(), victimBrowser.hops.at(-1)!.url);
  const end = await victimBrowser.follow(action, () => false, {
    form: { login: ADA.claims.email },
    accept: 'application/json',
  });
  return end.response;
}

/** The attacker replays every collected code in its own session: fails the test if one yields a ticket. */
async function replayCodes(
  attackerBrowser: TestBrowser,
  attacker: Awaited<ReturnType<typeof startMixUpAttackerIdp>>,
  app: { id: string; secret: string },
  returnTo: string,
) {
  for (const code of attacker.state.codesReceived) {
    const replay = new URL(attacker.state.stolen!.searchParams.get('redirect_uri')!);
    replay.searchParams.set('code', code);
    replay.searchParams.set('state', attacker.state.stolen!.searchParams.get('state')!);
    const replayed = await attackerBrowser.follow(replay.href, (url) => url.startsWith(returnTo), {
      accept: 'application/json',
    });
    const ticket = replayed.url ? new URL(replayed.url).searchParams.get('ticket') : null;
    if (ticket)
      t.fail(`account takeover: the attacker holds a ticket for ${(await redeem(broker, app, ticket)).body.login}`);
  }
}

t.test(
  'a setup link’s test sign-in works only in the holder’s browser: a victim lured to it yields no code',
  async (t) => {
    const attacker = await startMixUpAttackerIdp(t);
    const { victim, linkUrl } = await victimTenantWithLink();
    const holder = new TestBrowser();
    const csrf = await saveDraft(holder, linkUrl, attacker.issuer, attacker.clientSecret);

    // The holder starts the draft's test sign-in and keeps, unopened, whatever URL it is given.
    const started = await holder.request(`${linkUrl}/test-login`, { form: { csrf } });
    const handedOut =
      started.status === 303
        ? new URL(started.headers.get('location')!, linkUrl).href
        : refreshTarget(await started.text(), linkUrl);
    t.ok(handedOut, 'the test sign-in leads somewhere');
    t.notOk(handedOut!.startsWith(broker.url), 'no broker URL exists for the test sign-in: it continues to the IdP');

    // The attacker steals an authorization request of its own session at the real IdP.
    const attackerBrowser = new TestBrowser();
    const own = await attackerBrowser.request(victim.loginUrl());
    t.equal(own.status, 302);
    attacker.state.stolen = new URL(own.headers.get('location')!);

    // A victim opens the handed-out URL and signs in at the organisation's real IdP.
    const victimBrowser = new TestBrowser();
    const end = await victimSignsIn(victimBrowser, handedOut!);
    t.ok(
      victimBrowser.hops.some((hop) => hop.url.startsWith(victimIdp.issuer)),
      'the victim reached the real IdP through the attacker’s',
    );
    t.equal(end.status, 400, 'the code is refused at the callback');
    t.equal(
      ((await end.json()) as { error?: string }).error,
      'invalid_state',
      'no transaction in the victim’s browser',
    );
    t.same(attacker.state.codesReceived, [], 'the draft’s token endpoint never saw the victim’s code');
    await replayCodes(attackerBrowser, attacker, victim.app, victim.returnTo);
  },
);

t.test(
  'a login started under one version never finishes with another: activation mid-login sends no code to the new IdP',
  async (t) => {
    const attacker = await startMixUpAttackerIdp(t);
    const { victim, linkUrl } = await victimTenantWithLink();

    // A learner starts signing in while version 1 (the real IdP) is active.
    const victimBrowser = new TestBrowser();
    const atForm = await victimBrowser.follow(victim.loginUrl(), () => false);
    t.equal(atForm.response.status, 200, 'at the real IdP’s sign-in form');

    // Meanwhile the setup-link holder drafts their own IdP, passes its test sign-in there, activates it.
    const holder = new TestBrowser();
    const csrf = await saveDraft(holder, linkUrl, attacker.issuer, attacker.clientSecret);
    const started = await holder.request(`${linkUrl}/test-login`, { form: { csrf } });
    const toIdp =
      started.status === 303
        ? new URL(started.headers.get('location')!, linkUrl).href
        : refreshTarget(await started.text(), linkUrl)!;
    const diagnostics = await holder.follow(toIdp, () => false, { accept: 'application/json' });
    t.equal(((await diagnostics.response.json()) as { ok: boolean }).ok, true, 'the draft’s test passed');
    const activated = await holder.request(`${linkUrl}/activate`, { form: { csrf } });
    t.equal(activated.status, 303, 'activated');

    // The learner finishes at the real IdP: its code must not reach the newly active version's token endpoint.
    const action = formAction(await atForm.response.text(), victimBrowser.hops.at(-1)!.url);
    const end = await victimBrowser.follow(action, (url) => url.startsWith(victim.returnTo), {
      form: { login: ADA.claims.email },
      accept: 'application/json',
    });
    t.equal(end.url, undefined, 'no ticket, no redirect');
    t.equal(end.response.status, 400);
    t.equal(((await end.response.json()) as { error?: string }).error, 'login_expired');
    t.same(attacker.state.codesReceived.length, 1, 'only the holder’s own test code reached the new IdP');
    t.equal(victimIdp.tokenRequests.length, 0, 'and the learner’s code was redeemed nowhere');
  },
);
