import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Contract v3, redemption retries: with Idempotency-Key, the same app's repeat of the same
// ticket with the same key within 60 s of the first success gets the same answer; without
// the key, with another key, from another app, or later, it is invalid_ticket as before.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const other = await broker.admin('POST', '/admin/apps', { name: 'Other', returnUrls: [scenario.returnTo] });

async function ticket(): Promise<string> {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
  return back.searchParams.get('ticket')!;
}

async function redeem(value: string, key?: string, app: { id: string; secret: string } = scenario.app) {
  const response = await fetch(`${broker.url}/api/sso/tickets/redeem`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/json',
      ...(key !== undefined && { 'idempotency-key': key }),
    },
    body: JSON.stringify({ ticket: value }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

t.test('a retry with the same key gets the same identity; every other repeat is refused', async (t) => {
  const value = await ticket();
  const first = await redeem(value, 'retry-1');
  t.equal(first.status, 200);
  const again = await redeem(value, 'retry-1');
  t.equal(again.status, 200, 'the app’s own retry');
  t.same(again.body, first.body, 'the same answer: identity and session');
  t.equal((await redeem(value)).status, 400, 'without the key: a replayed ?ticket= URL');
  t.equal((await redeem(value, 'retry-2')).status, 400, 'with another key');
  t.equal(
    (await redeem(value, 'retry-1', { id: other.body.id, secret: other.body.secret })).status,
    400,
    'another app',
  );
  await broker.database.pool.query(`UPDATE tickets SET redeemed_at = now() - interval '61 seconds'`);
  t.equal((await redeem(value, 'retry-1')).status, 400, 'after 60 s');
});

t.test('a first redemption without a key can never be repeated', async (t) => {
  const value = await ticket();
  t.equal((await redeem(value)).status, 200);
  t.equal((await redeem(value, 'late-key')).status, 400);
});

t.test('many simultaneous redemptions with one key give one identity, never two sessions', async (t) => {
  const value = await ticket();
  const answers = await Promise.all(Array.from({ length: 12 }, () => redeem(value, 'same-key')));
  t.ok(answers.every((a) => a.status === 200));
  t.equal(new Set(answers.map((a) => a.body.session)).size, 1, 'one session');
  const mixed = await ticket();
  const racing = await Promise.all(Array.from({ length: 12 }, (_, i) => redeem(mixed, `key-${i}`)));
  t.equal(racing.filter((a) => a.status === 200).length, 1, 'different keys: exactly one succeeds');
  const { rows } = await broker.database.pool.query('SELECT count(*)::int AS n FROM tickets WHERE session_id = $1', [
    answers[0]!.body.session,
  ]);
  t.equal(rows[0].n, 1, 'one session row in the database');
});

t.test('a malformed key is a 400 that uses nothing up', async (t) => {
  const value = await ticket();
  for (const key of ['', 'x'.repeat(201), 'tab\there']) {
    const answer = await redeem(value, key);
    t.equal(answer.status, 400, JSON.stringify(key));
    t.equal(answer.body.error, 'invalid_request');
  }
  t.equal((await redeem(value, 'fine')).status, 200, 'the ticket is still good');
});
