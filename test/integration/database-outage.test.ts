import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { MIGRATIONS_DIR } from '../helpers/db.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';
import { testPool } from '../helpers/pg.js';

// Contract, Operations: while the database cannot be reached, requests that need it answer 503
// with Retry-After — a page on browser routes, temporarily_unavailable elsewhere — never 500,
// and the broker recovers by itself. The configuration cache keeps serving meanwhile, so a
// learner can finish the IdP round trip; only the app's redemption waits.

t.test('the database stops mid-run: 503 with Retry-After, never 500; cached logins go on; recovery', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'broker-outage-db-'));
  let cluster: EmbeddedCluster = await startEmbeddedPostgres({ dataDir: dir, persistent: true });
  t.teardown(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const port = Number(new URL(cluster.url).port);
  const pool = testPool({ connectionString: cluster.url, max: 1 });
  await migrate(pool, MIGRATIONS_DIR, { info() {}, warn() {} });
  await pool.end();
  const broker = await startBroker(t, {}, { databaseUrl: cluster.url });
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const login = () => signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
  t.ok((await redeem(broker, scenario.app, (await login()).searchParams.get('ticket'))).body.session, 'warm');
  const setupLink = (await broker.admin('POST', `/admin/tenants/${scenario.tenant}/setup-links`, {})).body.url;
  const signedIn = await fetch(`${broker.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: broker.adminToken }).toString(),
  });
  const consoleCookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;

  await cluster.stop();

  const during = await login();
  const ticket = during.searchParams.get('ticket');
  t.ok(ticket, 'a learner completes the IdP round trip from the cached configuration');
  const refused = await fetch(`${broker.url}/api/sso/tickets/redeem`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${scenario.app.id}:${scenario.app.secret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ ticket }),
  });
  t.equal(refused.status, 503, 'redemption waits for the database');
  t.equal(refused.headers.get('retry-after'), '2');
  t.match(await refused.json(), { error: 'temporarily_unavailable' });

  const admin = await broker.admin('GET', '/admin/tenants');
  t.equal(admin.status, 503);
  t.equal(admin.body.error, 'temporarily_unavailable');
  const page = await fetch(
    `${broker.url}/api/sso/login?app=${scenario.app.id}&tenant=never-seen&return_to=${scenario.returnTo}`,
    {
      headers: { accept: 'text/html' },
    },
  );
  t.equal(page.status, 503, 'an uncached lookup');
  t.equal(page.headers.get('retry-after'), '2');
  t.match(await page.text(), 'briefly unavailable');
  for (const [what, response] of [
    ['setup link page', await fetch(setupLink)],
    ['console', await fetch(`${broker.url}/console`, { headers: { cookie: consoleCookie } })],
  ] as const) {
    t.equal(response.status, 503, what);
    t.equal(response.headers.get('retry-after'), '2', `${what}: Retry-After`);
    t.match(await response.text(), 'briefly unavailable', `${what}: a page saying to try again`);
  }
  const ready = await fetch(`${broker.url}/readyz`);
  t.equal(ready.status, 503);
  t.match(await ready.json(), { error: 'not_ready', details: { database: 'down' } });
  const metrics = await (await fetch(`${broker.url}/metrics`)).text();
  t.match(metrics, 'sso_dependency_up{dependency="database"} 0');

  cluster = await startEmbeddedPostgres({ dataDir: dir, persistent: true, port });
  t.ok(await waitFor(async () => (await fetch(`${broker.url}/readyz`)).status === 200, 15_000), 'ready again');
  const redeemed = await redeem(broker, scenario.app, ticket);
  t.equal(redeemed.status, 200, 'the app’s retry redeems the ticket minted during the outage');
  t.equal((await broker.admin('GET', '/admin/tenants')).status, 200);
  t.equal((await redeem(broker, scenario.app, ticket)).status, 400, 'still exactly once');
});
