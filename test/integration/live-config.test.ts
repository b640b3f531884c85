import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';

// Live configuration on several replicas: broker B caches what logins read; a change made
// through broker A's admin API, or straight in the database, reaches B through PostgreSQL
// NOTIFY (sent by a trigger), with no restart. The cache TTL is an hour here, so only the
// notification can explain B seeing a change.

const rogue = await startRogueIdp(t, { idp: {} });
const a = await startBroker(t, { configCacheTtlSeconds: 3600 });
const b = await startBroker(
  t,
  { configCacheTtlSeconds: 3600, secretKeys: a.config.secretKeys },
  { databaseUrl: a.config.databaseUrl! },
);

await a.admin('POST', '/admin/tenants', { slug: 'live', name: 'Live' });
const connection = (
  await a.admin('POST', '/admin/tenants/live/connections', {
    issuer: rogue.issuer('idp'),
    clientId: 'rogue-client',
    clientSecret: rogue.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
  })
).body;
const returnTo = 'https://app.example.test/live';
const app = (
  await a.admin('POST', '/admin/apps', { name: 'Live', returnUrls: [returnTo, 'https://app.example.test/other'] })
).body;

/** A whole login through `broker`: 'ticket', the app-facing error, or the page's error code. */
async function loginThrough(broker: TestBroker, target = returnTo): Promise<string> {
  const url = `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: target, tenant: 'live' })}`;
  const result = await new TestBrowser().follow(url, (u) => u.startsWith(target), { accept: 'application/json' });
  if (!result.url) return ((await result.response.json()) as { error: string }).error;
  const back = new URL(result.url);
  return back.searchParams.get('ticket') ? 'ticket' : back.searchParams.get('error')!;
}

/** Polls until `broker` gives `expected` (notifications are asynchronous), at most 3 s. */
async function eventually(broker: TestBroker, expected: string, target = returnTo) {
  let last = '';
  for (let i = 0; i < 30; i++) {
    last = await loginThrough(broker, target);
    if (last === expected) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last;
}

t.test('live config rule: B serves from its cache, and sees A’s admin changes at once through NOTIFY', async (t) => {
  t.equal(await loginThrough(b), 'ticket', 'B signs in (and caches tenant, app, connection)');

  // A change that bypasses the admin API (an operator's SQL) reaches B too: the trigger on the
  // configuration tables announces it.
  await a.database.pool.query('UPDATE connections SET enabled = false WHERE id = $1', [connection.id]);
  t.equal(await eventually(b, 'no_connection'), 'no_connection', 'disabled by SQL: B refuses');
  await a.database.pool.query('UPDATE connections SET enabled = true WHERE id = $1', [connection.id]);
  t.equal(await eventually(b, 'ticket'), 'ticket', 're-enabled by SQL: B signs in again');

  t.equal((await a.admin('PATCH', `/admin/connections/${connection.id}`, { enabled: false })).status, 200);
  t.equal(await eventually(b, 'no_connection'), 'no_connection', 'disabled through A: B refuses');
  t.equal(await loginThrough(a), 'no_connection', 'and A at once');

  await a.admin('PATCH', `/admin/connections/${connection.id}`, { enabled: true });
  t.equal(await eventually(b, 'ticket'), 'ticket', 're-enabled through A: B signs in again');

  await a.admin('PATCH', `/admin/apps/${app.id}`, { returnUrls: [returnTo] });
  t.equal(
    await eventually(b, 'invalid_return_to', 'https://app.example.test/other'),
    'invalid_return_to',
    'a removed return URL is refused by B',
  );

  await a.admin('DELETE', '/admin/tenants/live');
  t.equal(await eventually(b, 'unknown_tenant'), 'unknown_tenant', 'a deleted tenant is gone on B');
});
