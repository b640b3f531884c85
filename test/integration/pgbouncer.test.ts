import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { startIdp } from '../helpers/idp.js';
import { pgbouncerMissing, startPgBouncer } from '../helpers/pgbouncer.js';
import { ADA, auditedLogins, redeem, registerTenant } from '../helpers/scenario.js';

// Behind PgBouncer in transaction mode (Debian 12's 1.18, which keeps no prepared statements):
// admin writes, logins with both client-auth methods, redemption exactly once, the audit.

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
}
