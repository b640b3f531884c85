import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// Contract v2: "A browser holds at most 5 pending logins: starting a sixth drops the oldest, and
// no request the broker causes ever carries more than 8 KB of its cookies." Before, a sealed
// transaction reached 7.4 KB and four unfinished logins made every later request fail with 431.

const rogue = await startRogueIdp(t, { idp: {} });
const broker = await startBroker(t);
const tenant = await registerAutoLoginTenant(broker, {
  slug: 'cookies',
  issuer: rogue.issuer('idp'),
  clientSecret: rogue.clientSecret,
});
const returnTo = 'https://app.example.test/cookies';
const loginUrl = (state?: string) =>
  `${broker.url}/api/sso/login?${new URLSearchParams({ app: tenant.app.id, return_to: returnTo, tenant: 'cookies', ...(state !== undefined && { state }) })}`;
const isTx = (name: string) => /^(__Host-)?sso_tx_/.test(name);

interface Pending {
  state: string;
  /** The IdP's authorization URL, which redirects straight back to the broker with a code. */
  authorize: string;
}

/** Starts a login in `browser` up to the IdP. */
async function startLogin(browser: TestBrowser, state?: string): Promise<Pending> {
  const response = await browser.request(loginUrl(state));
  if (response.status !== 302) throw new Error(`login answered ${response.status}: ${await response.text()}`);
  const authorize = response.headers.get('location')!;
  return { state: new URL(authorize).searchParams.get('state')!, authorize };
}

/** Finishes a pending login in `browser` through the IdP: 'ticket', an app error, or the page's code. */
async function finish(browser: TestBrowser, pending: Pending): Promise<string> {
  const result = await browser.follow(pending.authorize, (url) => url.startsWith(returnTo), {
    accept: 'application/json',
  });
  if (!result.url) return ((await result.response.json()) as { error: string }).error;
  const back = new URL(result.url);
  return back.searchParams.get('ticket') ? 'ticket' : back.searchParams.get('error')!;
}

t.test('cookie rule: a sealed transaction stays well under 1 KB (only what the callback needs)', async (t) => {
  const plain = await fetch(loginUrl('short-app-state'), { redirect: 'manual' });
  const cookie = plain.headers.getSetCookie().find((c) => isTx(c))!;
  const pair = cookie.split(';')[0]!;
  t.ok(pair.length < 600, `name=value is ${pair.length} bytes`);
  // return_to is kept as a hash: a 2 KB return URL costs the cookie nothing.
  const longReturn = `https://app.example.test/long?${'q'.repeat(1900)}`;
  await broker.admin('PATCH', `/admin/apps/${tenant.app.id}`, { returnUrls: [returnTo, longReturn] });
  const long = await fetch(
    `${broker.url}/api/sso/login?${new URLSearchParams({ app: tenant.app.id, return_to: longReturn, tenant: 'cookies' })}`,
    { redirect: 'manual' },
  );
  const longPair = long.headers
    .getSetCookie()
    .find((c) => isTx(c))!
    .split(';')[0]!;
  t.ok(longPair.length < 600, `with a ${longReturn.length}-character return_to: ${longPair.length} bytes`);
  // The largest app state the contract allows, in ASCII.
  const big = await fetch(loginUrl('s'.repeat(512)), { redirect: 'manual' });
  const bigPair = big.headers
    .getSetCookie()
    .find((c) => isTx(c))!
    .split(';')[0]!;
  t.ok(bigPair.length < 1400, `with a 512-character state: ${bigPair.length} bytes`);
});

t.test('cookie rule: a sixth pending login drops the oldest; the newest five still complete', async (t) => {
  const browser = new TestBrowser();
  const states: Pending[] = [];
  for (let i = 0; i < 7; i++) states.push(await startLogin(browser, `tab-${i}`));
  const names = (await browser.cookieNames(`${broker.url}/`)).filter(isTx);
  t.equal(names.length, 5, 'five pending logins in the browser');
  for (const { state } of states.slice(2))
    t.ok(
      names.some((name) => name.endsWith(state)),
      `kept ${state.slice(0, 6)}…`,
    );
  t.equal(await finish(browser, states[0]!), 'invalid_state', 'the oldest was dropped');
  t.equal(await finish(browser, states[6]!), 'ticket', 'the newest completes');
  t.equal(await finish(browser, states[2]!), 'ticket', 'an older one that was kept completes too');
});

t.test(
  'cookie rule: no request carries more than 8 KB of the broker’s cookies, whatever the app states hold',
  async (t) => {
    const browser = new TestBrowser();
    // 512 characters of three-byte UTF-8: the largest transaction the contract allows.
    let last: Pending | undefined;
    for (let i = 0; i < 12; i++) last = await startLogin(browser, `${String(i).padStart(2, '0')}${'€'.repeat(510)}`);
    const header = await browser.jar.getCookieString(`${broker.config.callbackUrl}/${tenant.connectionId}`);
    t.ok(header.length <= 8192, `the Cookie header is ${header.length} bytes`);
    for (const cookie of await browser.jar.getCookies(`${broker.url}/`))
      t.ok(cookie.cookieString().length < 4096, `each cookie fits a browser's 4 KB (${cookie.cookieString().length})`);
    t.ok((await browser.cookieNames(`${broker.url}/`)).filter(isTx).length <= 5);
    t.equal(await finish(browser, last!), 'ticket', 'and the login still completes (no 431)');
  },
);

t.test('cookie rule: an app state with control characters is refused (it would not fit a cookie)', async (t) => {
  const response = await fetch(loginUrl('\u0001'.repeat(512)), {
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  t.equal(response.status, 400);
  t.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  t.equal(
    (await fetch(loginUrl('ok state: a-z, 0-9 & spaces'), { redirect: 'manual' })).status,
    302,
    'printable characters are fine',
  );
});

t.test('cookie rule: the callback clears the transaction cookie, whatever the outcome', async (t) => {
  const browser = new TestBrowser();
  const state = await startLogin(browser);
  t.equal(await finish(browser, state), 'ticket');
  t.same((await browser.cookieNames(`${broker.url}/`)).filter(isTx), []);
});

t.test(
  'cookie rule: on https without a cookie domain the transaction cookie is __Host- (Secure, Path=/, no Domain)',
  async (t) => {
    const secure = await startBroker(t, { secureCookies: true });
    const secureTenant = await registerAutoLoginTenant(secure, {
      slug: 'secure',
      issuer: rogue.issuer('idp'),
      clientSecret: rogue.clientSecret,
    });
    const start = await fetch(
      `${secure.url}/api/sso/login?${new URLSearchParams({ app: secureTenant.app.id, return_to: 'https://app.example.test/secure', tenant: 'secure' })}`,
      { redirect: 'manual' },
    );
    const setCookie = start.headers.getSetCookie().find((c) => isTx(c))!;
    t.match(setCookie, /^__Host-sso_tx_/);
    t.match(setCookie, /; Secure/i);
    t.match(setCookie, /; Path=\//i);
    t.notMatch(setCookie, /Domain=/i);
    t.match(setCookie, /HttpOnly/i);
    t.match(setCookie, /SameSite=Lax/i);
    // A browser on https sends it back to the callback, which completes with it.
    const authorize = new URL(start.headers.get('location')!);
    const atIdp = await fetch(authorize, { redirect: 'manual' });
    const callback = atIdp.headers.get('location')!;
    t.match(callback, `${secure.config.callbackUrl}/${secureTenant.connectionId}?`);
    // Cookie tossing: the same sealed value under the plain name (which a sibling host could set) is ignored.
    const tossed = await fetch(callback, {
      redirect: 'manual',
      headers: { accept: 'application/json', cookie: setCookie.split(';')[0]!.replace(/^__Host-/, '') },
    });
    t.equal(tossed.status, 400, 'a plain sso_tx_ cookie does not stand in for the __Host- one');
    t.equal(((await tossed.json()) as { error: string }).error, 'invalid_state');
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie: setCookie.split(';')[0]! } });
    const back = new URL(done.headers.get('location')!);
    const answer = await redeem(secure, secureTenant.app, back.searchParams.get('ticket'));
    t.equal(answer.status, 200);
    t.match(done.headers.getSetCookie().join('\n'), /__Host-sso_tx_[^=]+=;/, 'and clears it under the same name');
  },
);
