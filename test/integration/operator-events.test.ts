import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// Contract v4, the operators' events: connection.activated, connection.failing then
// connection.recovered, credential.expiring — each emitted once, whichever replica saw it.

const broker = await startBroker(t);
// A second replica on the same database: what it sees counts in the same runs, once.
const replica = await startBroker(
  t,
  { secretKeys: broker.config.secretKeys, adminToken: broker.adminToken },
  { databaseUrl: broker.config.databaseUrl },
);

const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
  otherBrokers: [replica.config.callbackUrl],
});

type Event = { id: string; type: string; data: Record<string, unknown> };
async function eventsOf(type: string): Promise<Event[]> {
  return (await broker.admin('GET', `/admin/events?type=${type}&limit=1000`)).body.events as Event[];
}

t.test('connection.activated names the version and who activated it', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const draft = await broker.admin('POST', `/admin/connections/${scenario.connectionId}/versions`, {
    scopes: ['openid', 'email'],
  });
  t.equal(draft.status, 201);
  const activated = await broker.admin(
    'POST',
    `/admin/connections/${scenario.connectionId}/versions/${draft.body.version}/activate`,
    { force: true },
  );
  t.equal(activated.status, 200);
  const events = (await eventsOf('connection.activated')).filter((e) => e.data.connection === scenario.connectionId);
  t.same(
    events.map((e) => e.data),
    [{ tenant: scenario.tenant, connection: scenario.connectionId, version: draft.body.version, actor: 'admin token' }],
  );
});

t.test('five IdP-side failures in a row: connection.failing once; the next success: recovered', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const failing = () => eventsOf('connection.failing');
  const mine = (events: Event[]) => events.filter((e) => e.data.connection === scenario.connectionId);
  // The IdP refuses the broker's client secret from now on: token_exchange_failed, at the IdP.
  const wrong = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, {
    clientSecret: 'not-the-client-secret-the-idp-issued-0123456789',
  });
  t.equal(wrong.status, 200);
  const login = async (target: typeof broker, who = String(ADA.claims.email)) => {
    const url = scenario.loginUrl().replace(broker.url, target.url);
    return signIn(new TestBrowser(), url, who, scenario.returnTo);
  };
  for (let i = 0; i < 4; i++) {
    const back = await login(i % 2 === 0 ? broker : replica);
    t.equal(back.searchParams.get('error'), 'token_exchange_failed', `failure ${i + 1}`);
  }
  // A learner who is refused at the IdP (access_denied) neither counts nor breaks the run.
  t.equal((await login(broker, 'nobody@acme.example')).searchParams.get('error'), 'access_denied');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(mine(await failing()), [], 'four failures and a refusal: not yet');
  t.equal((await login(replica)).searchParams.get('error'), 'token_exchange_failed', 'the fifth, on the replica');
  t.ok(await waitFor(async () => mine(await failing()).length === 1), 'connection.failing');
  const [event] = mine(await failing());
  t.match(event?.data, {
    tenant: scenario.tenant,
    connection: scenario.connectionId,
    failures: 5,
    lastError: 'token_exchange_failed',
  });
  t.ok(Date.parse(String(event?.data.since)) <= Date.now(), 'since: the run’s first failure');
  await login(broker);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(mine(await failing()).length, 1, 'a sixth failure: no second event');

  const fixed = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, {
    clientSecret: idp.secretClient.clientSecret,
  });
  t.equal(fixed.status, 200);
  t.ok((await login(replica)).searchParams.get('ticket'), 'a successful login');
  t.ok(await waitFor(async () => mine(await eventsOf('connection.recovered')).length === 1), 'connection.recovered');
  t.same(mine(await eventsOf('connection.recovered'))[0]?.data, {
    tenant: scenario.tenant,
    connection: scenario.connectionId,
  });
  await login(broker);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(mine(await eventsOf('connection.recovered')).length, 1, 'once');
});

t.test('credential.expiring: the closest of 30, 7 and 1 days ahead, once across replicas', async (t) => {
  const expiresAt = new Date(Date.now() + 5 * 86_400_000).toISOString();
  const scenario = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    connection: { clientSecretExpiresAt: expiresAt },
  });
  // Replicas check 10 s after they start, then hourly: two started now both see it, at once.
  for (let i = 0; i < 2; i++) {
    await startBroker(
      t,
      { secretKeys: broker.config.secretKeys, adminToken: broker.adminToken },
      { databaseUrl: broker.config.databaseUrl },
    );
  }
  const mine = async () =>
    (await eventsOf('credential.expiring')).filter((e) => e.data.connection === scenario.connectionId);
  t.ok(await waitFor(async () => (await mine()).length === 1, 20_000), 'emitted');
  t.same((await mine())[0]?.data, {
    kind: 'client_secret',
    tenant: scenario.tenant,
    connection: scenario.connectionId,
    expiresAt,
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  t.equal((await mine()).length, 1, 'once: the 7-day warning, with the 30-day one marked given');
});
