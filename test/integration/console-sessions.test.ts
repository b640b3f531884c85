import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SIGN_IN_CODE_TTL_MS } from '../../src/http/console/console-session.js';
import { startBroker } from '../helpers/broker.js';

// The operators' console: how sessions start and when they end, through the HTTP surface.

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
