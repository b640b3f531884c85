import { randomBytes } from 'node:crypto';
import t from 'tap';
import { startHousekeeping } from '../../src/domain/housekeeping.js';
import { ConsoleSessionRepo } from '../../src/domain/login/console-session.repo.js';
import { SIGN_IN_CODE_TTL_MS } from '../../src/http/console/console-session.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs, refreshTarget } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// The operators' console: how sessions start and when they end, through the HTTP surface. A
// session is stored (console_sessions) as well as sealed in its cookie: signing out revokes it
// on every replica, and it lasts only while what admitted it would still: the same ADMIN_TOKEN,
// or an identity CONSOLE_ADMINS still lists. "Restarted" is buildApp again on the same database
// with the same SECRET_KEY, so the old cookie still opens and only the session rules can refuse it.

type Teardown = { teardown(fn: () => unknown): void };
type Tap = Pick<typeof t, 'equal'>;

/** The `name=value` of the console cookie a response sets, if any. */
const setCookie = (response: Response) =>
  response.headers
    .getSetCookie()
    .find((c) => /^(__Host-)?sso_console=[^;]/.test(c))
    ?.split(';')[0];

t.test('the start-up sign-in link works once, and not once it has expired', async (t) => {
  const code = randomBytes(24).toString('base64url');
  const broker = await startBroker(t, { consoleSignInCode: { code, expiresAt: Date.now() + SIGN_IN_CODE_TTL_MS } });
  const link = `${broker.url}/console/sign-in?code=${code}`;
  const first = await fetch(link, { redirect: 'manual' });
  t.equal(first.status, 303);
  t.equal(first.headers.get('location'), '/console');
  const cookie = setCookie(first);
  t.ok(cookie, 'a session');
  const signedIn = await fetch(`${broker.url}/console`, { headers: { cookie: cookie! }, redirect: 'manual' });
  t.equal(signedIn.status, 200, 'signed in with one click');

  const again = await fetch(link, { redirect: 'manual' });
  t.equal(again.status, 401, 'once only');
  t.equal(setCookie(again), undefined);
  t.match(await again.text(), 'This sign-in link has expired or was used already');

  // The same link, read from a log after its lifetime (the broker restarted on the same database).
  const late = randomBytes(24).toString('base64url');
  const restarted = await startBroker(
    t,
    { consoleSignInCode: { code: late, expiresAt: Date.now() - 1 } },
    { databaseUrl: broker.config.databaseUrl! },
  );
  const expired = await fetch(`${restarted.url}/console/sign-in?code=${late}`, { redirect: 'manual' });
  t.equal(expired.status, 401, 'expired');
  t.equal(setCookie(expired), undefined, 'no session');
  t.match(await expired.text(), 'This sign-in link has expired or was used already');
});

/** Signs in to the console with the admin token; the session cookie (`name=value`). */
async function tokenSignIn(tap: Tap, broker: TestBroker): Promise<string> {
  const response = await fetch(`${broker.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: broker.adminToken }).toString(),
  });
  tap.equal(response.status, 303, 'signed in with the admin token');
  return setCookie(response)!;
}

/** `/console` with this cookie: 200 when signed in, 303 (to the sign-in page) when not. */
async function consoleWith(broker: TestBroker, cookie: string) {
  const response = await fetch(`${broker.url}/console`, { headers: { cookie }, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

/** The same database and SECRET_KEY as `broker`: another replica, or the broker restarted. */
const replicaOf = (tap: Teardown, broker: TestBroker, overrides: Parameters<typeof startBroker>[1] = {}) =>
  startBroker(
    tap,
    { secretKeys: broker.config.secretKeys, adminToken: broker.adminToken, ...overrides },
    { databaseUrl: broker.config.databaseUrl! },
  );

t.test('signing out ends the session on every replica, whatever copies of the cookie remain', async (t) => {
  const broker = await startBroker(t);
  const replica = await replicaOf(t, broker);
  const cookie = await tokenSignIn(t, broker);
  const signedIn = await consoleWith(broker, cookie);
  t.equal(signedIn.status, 200);
  t.equal((await consoleWith(replica, cookie)).status, 200, 'the other replica knows the session');

  const signOut = await fetch(`${broker.url}/console/sign-out`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: hiddenInputs(signedIn.html).csrf! }).toString(),
  });
  t.equal(signOut.status, 303);
  t.match(signOut.headers.get('set-cookie'), /sso_console=;/, 'the browser drops its cookie');
  for (const [name, where] of [
    ['this replica', broker],
    ['the other replica', replica],
  ] as const) {
    const kept = await consoleWith(where, cookie);
    t.equal(kept.status, 303, `${name}: a kept copy of the signed-out cookie is refused`);
    t.equal(kept.location, '/console/sign-in');
  }
  t.equal((await consoleWith(broker, await tokenSignIn(t, broker))).status, 200, 'signing in again works');
});

t.test('a rotated ADMIN_TOKEN ends the sessions it admitted', async (t) => {
  const broker = await startBroker(t);
  const cookie = await tokenSignIn(t, broker);
  t.equal((await consoleWith(broker, cookie)).status, 200);
  // Restarted with the same token: still signed in.
  const same = await replicaOf(t, broker);
  t.equal((await consoleWith(same, cookie)).status, 200, 'the same token: the session goes on');

  const rotated = await replicaOf(t, broker, { adminToken: randomBytes(32).toString('base64url') });
  const refused = await consoleWith(rotated, cookie);
  t.equal(refused.status, 303, 'a new token: the old session is refused');
  t.equal(refused.location, '/console/sign-in');
  t.equal((await consoleWith(same, cookie)).status, 303, 'and it stays ended, even where the old token remains');
  const { rows } = await broker.database.pool.query<{ revoked: boolean }>(
    'SELECT revoked_at IS NOT NULL AS revoked FROM console_sessions',
  );
  t.same(rows, [{ revoked: true }], 'revoked where it is stored');

  const other = await tokenSignIn(t, broker);
  const withoutToken = await replicaOf(t, broker, { adminToken: undefined });
  t.equal((await consoleWith(withoutToken, other)).status, 303, 'no ADMIN_TOKEN any more: no token session');
});

t.test('an SSO session ends when CONSOLE_ADMINS no longer lists its operator', async (t) => {
  // The console's tenant and its connection exist before the broker starts with CONSOLE_TENANT:
  // that first start pins the connection's issuer (console-pin.ts).
  const setup = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: setup.config.callbackUrl,
    brokerJwks: setup.keys.jwks(),
    accounts: [ADA],
    strictRedirectUris: true,
  });
  t.equal((await setup.admin('POST', '/admin/tenants', { slug: 'ops', name: 'Operations' })).status, 201);
  const connection = await setup.admin('POST', '/admin/tenants/ops/connections', {
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: idp.secretClient.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  t.equal(connection.status, 201);
  const admins = { consoleTenant: 'ops', consoleAdmins: ['ada@acme.example', 'group:admins'] };
  const broker = await replicaOf(t, setup, admins);
  idp.registerRedirectUri(`${broker.config.callbackUrl}/${connection.body.id}`);

  // Ada signs in through the ops tenant's IdP.
  const browser = new TestBrowser();
  const started = await browser.request(`${broker.url}/console/sign-in/sso`, { form: {} });
  const toIdp =
    started.status === 303
      ? new URL(started.headers.get('location')!, broker.url).href
      : refreshTarget(await started.text(), broker.url);
  const form = await browser.follow(toIdp!, () => false);
  const action = formAction(await form.response.text(), browser.hops.at(-1)!.url);
  const back = await browser.follow(action, () => false, { form: { login: ADA.claims.email as string } });
  t.equal(back.response.status, 200, 'back from the IdP: the console session is open');
  const cookie = (await browser.jar.getCookieString(`${broker.url}/console`))
    .split('; ')
    .find((c) => c.includes('sso_console='))!;
  t.ok(cookie, 'a console cookie');
  const signedIn = await consoleWith(broker, cookie);
  t.equal(signedIn.status, 200);
  t.match(signedIn.html, 'ada@acme.example', 'signed in as Ada');

  // Restarted with the same CONSOLE_ADMINS: still signed in; with her removed (her group
  // too), she is not, on the next request.
  t.equal((await consoleWith(await replicaOf(t, setup, admins), cookie)).status, 200, 'the same list: signed in');
  const groupOnly = await replicaOf(t, setup, { ...admins, consoleAdmins: ['group:admins'] });
  t.equal((await consoleWith(groupOnly, cookie)).status, 200, 'still listed by her group');
  const removed = await replicaOf(t, setup, { ...admins, consoleAdmins: ['grace@acme.example'] });
  const refused = await consoleWith(removed, cookie);
  t.equal(refused.status, 303, 'removed from CONSOLE_ADMINS: signed out');
  t.equal(refused.location, '/console/sign-in');
  t.equal((await consoleWith(broker, cookie)).status, 303, 'and it stays ended where the old list remains');
});

t.test('expired console sessions are purged: storage stays bounded', async (t) => {
  const broker = await startBroker(t);
  await tokenSignIn(t, broker);
  // That session past its 12 hours (as if signed in yesterday); another one, signed in now.
  await broker.database.pool.query(`UPDATE console_sessions SET expires_at = now() - interval '1 second'`);
  const live = await tokenSignIn(t, broker);
  const count = async () => (await broker.database.pool.query('SELECT id FROM console_sessions')).rowCount;
  t.equal(await count(), 2);
  // The hourly housekeeping (here every 10 ms) deletes it, and only it.
  const stop = startHousekeeping({
    audit: { purge: async () => 0 },
    tickets: { purge: async () => 0, purgeUnredeemed: async () => 0 },
    consoleSessions: new ConsoleSessionRepo(broker.database.pool),
    retentionDays: 30,
    intervalMs: 10,
    log: { info() {}, warn() {} },
  });
  t.teardown(stop);
  t.ok(await waitFor(async () => (await count()) === 1), 'the expired session is deleted');
  t.equal((await consoleWith(broker, live)).status, 200, 'the live one goes on');
});
