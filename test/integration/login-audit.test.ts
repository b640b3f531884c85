import t from 'tap';
import { TicketRepo } from '../../src/domain/tickets/ticket.repo.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { LoginAuditRepo } from '../../src/domain/audit/login-audit.repo.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, auditedLogins, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// Contract: GET /admin/tenants/:slug/logins — every login attempt, newest first, never tokens.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });

t.test('successes and failures are recorded with connection, app, outcome, error and duration', async (t) => {
  await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  const denied = new TestBrowser();
  await signIn(denied, scenario.loginUrl(), 'nobody@acme.example', scenario.returnTo); // access_denied
  const callbackRequest = denied.hops.find((hop) => hop.url.includes('/api/sso/callback/'))?.requestId;
  await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);

  const all = await auditedLogins(broker, scenario.tenant, 3);
  t.equal(all.status, 200);
  t.equal(all.body.logins.length, 3);
  t.match(all.body.logins[0], {
    at: String,
    connection: scenario.connectionId,
    app: scenario.app.id,
    outcome: 'success',
    error: null,
    durationMs: Number,
  });
  t.match(all.body.logins[1], { outcome: 'failure', error: 'access_denied' });
  t.ok(callbackRequest);
  t.equal(all.body.logins[1].requestId, callbackRequest, 'the request id the learner saw names the attempt');
  const times = all.body.logins.map((l: { at: string }) => Date.parse(l.at));
  t.same(
    times,
    [...times].sort((a: number, b: number) => b - a),
    'newest first',
  );
  t.same(
    Object.keys(all.body.logins[0]).sort(),
    ['app', 'at', 'connection', 'durationMs', 'error', 'outcome', 'requestId'],
    'nothing else: no tokens, codes or claims',
  );

  const failures = await broker.admin('GET', `/admin/tenants/${scenario.tenant}/logins?outcome=failure`);
  t.same(
    failures.body.logins.map((l: { error: string }) => l.error),
    ['access_denied'],
  );
  const one = await broker.admin('GET', `/admin/tenants/${scenario.tenant}/logins?limit=1`);
  t.equal(one.body.logins.length, 1);
});

t.test('bad queries get 400, unknown tenants 404', async (t) => {
  for (const query of ['limit=0', 'limit=501', 'limit=x', 'outcome=maybe', 'other=1']) {
    const answer = await broker.admin('GET', `/admin/tenants/${scenario.tenant}/logins?${query}`);
    t.equal(answer.status, 400, query);
    t.equal(answer.body.error, 'invalid_request');
  }
  t.equal((await broker.admin('GET', '/admin/tenants/nope/logins')).status, 404);
});

t.test('retention rule: attempts older than the retention and tickets a day past expiry are purged', async (t) => {
  await broker.database.pool.query(
    `UPDATE login_attempts SET at = now() - interval '31 days' WHERE outcome = 'failure'`,
  );
  await broker.database.pool.query(
    `UPDATE tickets SET expires_at = now() - interval '2 days' WHERE redeemed_at IS NULL`,
  );
  const {
    rows: [before],
  } = await broker.database.pool.query(`SELECT (SELECT count(*) FROM tickets)::int AS tickets`);
  t.equal(await new LoginAuditRepo(broker.database.pool).purge(30), 1, 'the 31-day-old failure');
  t.equal(
    await new TicketRepo(broker.database.pool, createMetrics()).purge(30),
    before.tickets,
    'every expired ticket',
  );
  const left = await broker.admin('GET', `/admin/tenants/${scenario.tenant}/logins`);
  t.same(
    left.body.logins.map((l: { outcome: string }) => l.outcome),
    ['success', 'success'],
  );
});

t.test('a connection’s health leaves out failures from before its IdP was involved', async (t) => {
  const target = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const other = await registerTenant(broker, idp, { method: 'client_secret_post' });
  await signIn(new TestBrowser(), target.loginUrl(), ADA.claims.email, target.returnTo);
  // Anyone's links naming the connection, for an app it is not allowed for: refused before its IdP.
  for (let i = 0; i < 3; i++) {
    const query = new URLSearchParams({
      app: other.app.id,
      return_to: other.returnTo,
      connection: target.connectionId,
    });
    const refused = await fetch(`${broker.url}/api/sso/login?${query}`);
    t.equal(refused.status, 400);
    await refused.arrayBuffer();
  }
  t.ok(
    await waitFor(async () => {
      const { rowCount } = await broker.database.pool.query(
        `SELECT 1 FROM login_attempts WHERE connection_id = $1 AND outcome = 'failure'`,
        [target.connectionId],
      );
      return rowCount === 3;
    }, 3_000),
    'the refusals are in the login audit, with the connection',
  );

  const operator = new TestBrowser();
  const signedIn = await operator.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  t.equal(signedIn.status, 303);
  const page = await (await operator.request(`${broker.url}/console`)).text();
  const row = page.split('<tr>').find((r) => r.includes(`/console/connections/${target.connectionId}"`)) ?? '';
  const cells = [...row.matchAll(/<td>(.*?)<\/td>/gs)].map((m) => m[1]);
  t.same(cells.slice(2, 5), ['1', '100%', '—'], 'one login, all successful, no last error');
});
