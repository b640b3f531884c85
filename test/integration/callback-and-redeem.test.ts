import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';
import { installClock } from '../helpers/clock.js';

// What the callback and ticket redemption refuse (contract: GET /api/sso/callback,
// POST /api/sso/tickets/redeem).

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const other = await registerTenant(broker, idp, { method: 'client_secret_post' });

/** Signs in up to the IdP's redirect back to the broker; returns the callback URL unfollowed. */
async function callbackUrlFor(browser: TestBrowser): Promise<string> {
  const first = await browser.follow(scenario.loginUrl(), () => false);
  const action = formAction(await first.response.text(), browser.hops.at(-1)!.url);
  const back = await browser.follow(action, (url) => url.startsWith(broker.config.callbackUrl), {
    form: { login: ADA.claims.email },
  });
  if (!back.url) throw new Error('no callback');
  return back.url;
}

t.test('ticket rule: another app cannot redeem it, and its attempt does not use it up', async (t) => {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const ticket = back.searchParams.get('ticket');
  const foreign = await redeem(broker, other.app, ticket);
  t.equal(foreign.status, 400);
  t.equal(foreign.body.error, 'invalid_ticket', "another app's credentials get invalid_ticket");
  const own = await redeem(broker, scenario.app, ticket);
  t.equal(own.status, 200, 'the right app still redeems it');
});

t.test(
  'ticket rule: wrong or missing app credentials get 401 invalid_client and do not use the ticket up',
  async (t) => {
    const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
    const ticket = back.searchParams.get('ticket');
    const wrong = await redeem(broker, { id: scenario.app.id, secret: 'not-the-secret' }, ticket);
    t.equal(wrong.status, 401);
    t.equal(wrong.body.error, 'invalid_client');
    const unknownApp = await redeem(broker, { id: 'no-such-app', secret: scenario.app.secret }, ticket);
    t.equal(unknownApp.status, 401);
    const missing = await fetch(`${broker.url}/api/sso/tickets/redeem`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticket }),
    });
    t.equal(missing.status, 401);
    t.match(missing.headers.get('www-authenticate'), /^Basic/);
    t.equal((await redeem(broker, scenario.app, ticket)).status, 200, 'the ticket survived the failed attempts');
  },
);

t.test('ticket rule: unknown, malformed and missing tickets all get the same invalid_ticket', async (t) => {
  for (const ticket of ['x'.repeat(43), '', 42, null, undefined, 'a'.repeat(500)]) {
    const answer = await redeem(broker, scenario.app, ticket);
    t.equal(answer.status, 400, `ticket ${JSON.stringify(ticket)?.slice(0, 20)}`);
    t.equal(answer.body.error, 'invalid_ticket');
  }
});

t.test('ticket rule: an expired ticket is invalid_ticket', async (t) => {
  const clock = installClock(t);
  const short = await startBroker(t, { ticketTtlSeconds: 1 });
  const shortIdp = await startIdp(t, {
    redirectUri: short.config.callbackUrl,
    brokerJwks: short.keys.jwks(),
    accounts: [ADA],
  });
  const s = await registerTenant(short, shortIdp, { method: 'client_secret_post' });
  const back = await signIn(new TestBrowser(), s.loginUrl(), ADA.claims.email, s.returnTo);
  clock.advance(1_100); // past the ticket's one-second lifetime
  const answer = await redeem(short, s.app, back.searchParams.get('ticket'));
  t.same([answer.status, answer.body.error], [400, 'invalid_ticket']);
});

t.test('ticket rule: a ticket minted for one app is invalid_ticket for another, and stays redeemable', async (t) => {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const ticket = back.searchParams.get('ticket');
  const foreign = await redeem(broker, other.app, ticket);
  t.same([foreign.status, foreign.body.error], [400, 'invalid_ticket']);
  t.equal((await redeem(broker, scenario.app, ticket)).status, 200, 'the right app still redeems it');
});

t.test('ticket rule: a tampered ticket is invalid_ticket', async (t) => {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const ticket = back.searchParams.get('ticket')!;
  const flipped = ticket.slice(0, -10) + (ticket.at(-10) === 'A' ? 'B' : 'A') + ticket.slice(-9);
  const answer = await redeem(broker, scenario.app, flipped);
  t.same([answer.status, answer.body.error], [400, 'invalid_ticket']);
  t.equal((await redeem(broker, scenario.app, ticket)).status, 200);
});

t.test('ticket rule: tickets are stored only as hashes', async (t) => {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const ticket = back.searchParams.get('ticket')!;
  const { rows } = await broker.database.pool.query(
    `SELECT count(*)::int AS n FROM tickets WHERE hash = $1 OR identity::text LIKE $2`,
    [ticket, `%${ticket}%`],
  );
  t.equal(rows[0].n, 0, 'the ticket itself appears nowhere in the table');
});

t.test('ticket rule: many concurrent redemptions of one ticket succeed exactly once', async (t) => {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const ticket = back.searchParams.get('ticket');
  const answers = await Promise.all(Array.from({ length: 25 }, () => redeem(broker, scenario.app, ticket)));
  t.equal(answers.filter((a) => a.status === 200).length, 1, 'one success');
  t.equal(answers.filter((a) => a.body.error === 'invalid_ticket').length, 24, 'every other attempt: invalid_ticket');
});

t.test('transaction rule: a replayed callback never yields a second ticket, with or without the cookie', async (t) => {
  const browser = new TestBrowser();
  const callback = await callbackUrlFor(browser);
  const cookies = await browser.jar.getCookieString(callback);
  const first = await fetch(callback, { redirect: 'manual', headers: { cookie: cookies } });
  t.equal(first.status, 302);
  t.ok(new URL(first.headers.get('location')!).searchParams.get('ticket'), 'the first callback mints a ticket');

  const withCookie = await fetch(callback, {
    redirect: 'manual',
    headers: { cookie: cookies, accept: 'application/json' },
  });
  // The IdP refuses the used code (invalid_grant): the learner goes back to the app with the
  // error, and no ticket.
  t.equal(withCookie.status, 302, 'replay with the cookie: back to the app');
  const replayed = new URL(withCookie.headers.get('location')!);
  t.equal(replayed.searchParams.get('error'), 'token_exchange_failed');
  t.equal(replayed.searchParams.get('ticket'), null, 'replay with the cookie: no ticket');
  const withoutCookie = await fetch(callback, { redirect: 'manual', headers: { accept: 'application/json' } });
  t.equal(withoutCookie.status, 400, 'replay without the cookie: 400');
  t.equal(((await withoutCookie.json()) as { error: string }).error, 'invalid_state');
});

t.test('transaction rule: the broker refuses a callback without its cookie, or with a tampered state', async (t) => {
  const browser = new TestBrowser();
  const callback = new URL(await callbackUrlFor(browser));
  const cookies = await browser.jar.getCookieString(callback.href);

  const noCookie = await fetch(callback, { redirect: 'manual' });
  t.equal(noCookie.status, 400, 'no cookie: 400 page');
  t.match(noCookie.headers.get('content-type'), /text\/html/);
  t.notOk(noCookie.headers.get('location'), 'no redirect');

  const tampered = new URL(callback);
  tampered.searchParams.set('state', `${callback.searchParams.get('state')!.slice(0, -2)}AA`);
  const bad = await fetch(tampered, { redirect: 'manual', headers: { cookie: cookies } });
  t.equal(bad.status, 400, 'tampered state: 400');

  // The genuine callback still works after the failed attempts.
  const good = await fetch(callback, { redirect: 'manual', headers: { cookie: cookies } });
  t.ok(new URL(good.headers.get('location')!).searchParams.get('ticket'));
});

t.test('transaction rule: a cookie sealed for one state does not open for another', async (t) => {
  const a = new TestBrowser();
  const callbackA = new URL(await callbackUrlFor(a));
  const b = new TestBrowser();
  const callbackB = new URL(await callbackUrlFor(b));
  const cookieB = (await b.jar.getCookies(callbackB.href)).find((c) => c.key.startsWith('sso_tx_'))!;
  // Present B's sealed transaction under A's cookie name, with A's code and state.
  const forged = `sso_tx_${callbackA.searchParams.get('state')}=${cookieB.value}`;
  const answer = await fetch(callbackA, { redirect: 'manual', headers: { cookie: forged } });
  t.equal(answer.status, 400);
});

t.test('transaction rule: an expired transaction is refused with login_expired', async (t) => {
  const clock = installClock(t);
  const shortBroker = await startBroker(t, { transactionTtlSeconds: 2 });
  const shortIdp = await startIdp(t, {
    redirectUri: shortBroker.config.callbackUrl,
    brokerJwks: shortBroker.keys.jwks(),
    accounts: [ADA],
  });
  const s = await registerTenant(shortBroker, shortIdp, { method: 'client_secret_post' });
  const browser = new TestBrowser();
  const first = await browser.follow(s.loginUrl(), () => false);
  const action = formAction(await first.response.text(), browser.hops.at(-1)!.url);
  clock.advance(3_100); // past the transaction's two-second lifetime
  const back = await browser.follow(action, (url) => url.startsWith(s.returnTo.split('?')[0]!), {
    form: { login: ADA.claims.email },
    accept: 'application/json',
  });
  t.notOk(back.url, 'not sent back to the app with a ticket');
  t.equal(back.response.status, 400);
  t.equal(((await back.response.json()) as { error: string }).error, 'login_expired');
});
