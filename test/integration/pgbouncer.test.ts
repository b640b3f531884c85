import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { startIdp } from '../helpers/idp.js';
import { pgbouncerMissing, startPgBouncer } from '../helpers/pgbouncer.js';
import { ADA, auditedLogins, redeem, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';
import { answer, startWebhookReceiver } from '../helpers/webhook-receiver.js';

// Behind PgBouncer in transaction mode (Debian 12's 1.18, which keeps no prepared statements):
// admin writes, logins with both client-auth methods, redemption exactly once, the audit, and
// webhook deliveries (pg-boss: its schema, jobs inserted with their events, a retry).

const missing = pgbouncerMissing();
if (missing && process.env.CI) throw new Error(`CI needs PgBouncer: ${missing}`);
if (missing) t.test('behind PgBouncer', { skip: missing }, () => {});
else {
  const bouncer = await startPgBouncer(t, await testDatabaseUrl(t));
  const broker = await startBroker(t, {}, { databaseUrl: bouncer });
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });

  for (const method of ['client_secret_post', 'private_key_jwt'] as const) {
    t.test(`through PgBouncer (transaction mode), ${method}: sign in, redeem once, audit`, async (t) => {
      const scenario = await registerTenant(broker, idp, { method });
      // Several logins at once, so statements of different requests share server connections.
      const backs = await Promise.all(
        Array.from({ length: 4 }, () =>
          signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo),
        ),
      );
      for (const back of backs) {
        const ticket = back.searchParams.get('ticket');
        t.equal(back.searchParams.get('error'), null);
        const [first, second] = await Promise.all([
          redeem(broker, scenario.app, ticket),
          redeem(broker, scenario.app, ticket),
        ]);
        t.same([first.status, second.status].sort(), [200, 400], 'redeemed exactly once');
      }
      const audit = await auditedLogins(broker, scenario.tenant, 4);
      t.equal(audit.status, 200);
      t.equal(audit.body.logins.filter((l: { outcome: string }) => l.outcome === 'success').length, 4);
    });
  }

  t.test('through PgBouncer (transaction mode): webhook deliveries, a failed attempt retried', async (t) => {
    const receiver = await startWebhookReceiver(t);
    receiver.behave(answer(503));
    const hook = await broker.admin('POST', '/admin/webhooks', { url: receiver.url, events: ['session.ended'] });
    t.equal(hook.status, 201);
    const sent = await Promise.all(
      Array.from({ length: 6 }, () => broker.admin('POST', `/admin/webhooks/${hook.body.id}/test`)),
    );
    t.same(
      sent.map((s) => s.status),
      Array(6).fill(202),
    );
    t.ok(await waitFor(() => receiver.received.length >= 6), 'every event attempted');
    receiver.behave(answer(204));
    const ids = () => new Set(receiver.received.map((r) => r.headers['webhook-id']));
    t.equal(ids().size, 6, 'six events');
    t.ok(await waitFor(() => receiver.received.length >= 12, 20_000), 'each retried after its failure');
    const delivered = async () =>
      (
        (await broker.admin('GET', `/admin/webhooks/${hook.body.id}/deliveries`)).body.deliveries as {
          status: number;
        }[]
      ).filter((d) => d.status === 204).length;
    t.ok(await waitFor(async () => (await delivered()) === 6), 'then delivered, each recorded');
  });
}
