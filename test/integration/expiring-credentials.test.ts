import t from 'tap';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { loadBrokerKeys } from '../../src/config/broker-keys.js';
import { ExpiringCredentials } from '../../src/domain/expiring/expiring-credentials.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// Contract v3, expiring credentials: GET /admin/expiring, the gauge in /metrics, and the
// warnings 30 days ahead (setup page and log).

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

const broker = await startBroker(
  t,
  {},
  {
    prepareKeys: async (dir) => {
      await generateBrokerKey(dir, { kid: 'a-soon', certificateDays: 10 });
      await generateBrokerKey(dir, { kid: 'b-later', certificateDays: 400 });
    },
  },
);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});

const soon = await registerTenant(broker, idp, {
  method: 'client_secret_post',
  connection: { clientSecretExpiresAt: inDays(5) },
});
const later = await registerTenant(broker, idp, {
  method: 'client_secret_post',
  connection: { clientSecretExpiresAt: inDays(100) },
});
const drafted = await registerTenant(broker, idp, { method: 'client_secret_post' });
await broker.admin('POST', `/admin/connections/${drafted.connectionId}/versions`, {
  clientSecret: 'renewed',
  clientSecretExpiresAt: inDays(20),
});

t.test('GET /admin/expiring lists client secrets of active and draft versions, and certificates', async (t) => {
  const within30 = await broker.admin('GET', '/admin/expiring');
  t.equal(within30.status, 200);
  t.match(within30.body.expiring, [
    { kind: 'client_secret', tenant: soon.tenant, connection: soon.connectionId, version: 1, status: 'active' },
    { kind: 'certificate', kid: 'a-soon' },
    { kind: 'client_secret', tenant: drafted.tenant, connection: drafted.connectionId, version: 2, status: 'draft' },
  ]);
  t.equal(within30.body.expiring.length, 3, 'soonest first, and nothing later than 30 days');
  const within200 = await broker.admin('GET', '/admin/expiring?days=200');
  t.same(
    within200.body.expiring.map((c: { connection?: string; kid?: string }) => c.connection ?? c.kid),
    [soon.connectionId, 'a-soon', drafted.connectionId, later.connectionId],
  );
  t.equal((await broker.admin('GET', '/admin/expiring?days=-1')).status, 400);
  t.equal((await broker.admin('GET', '/admin/expiring?days=many')).status, 400);
});

t.test('/metrics carries each expiry as a timestamp gauge', async (t) => {
  const text = await (await fetch(`${broker.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('sso_broker_credential_expiry_timestamp_seconds{') && l.includes(soon.connectionId));
  t.ok(line, 'a line for the expiring secret');
  t.match(line, `kind="client_secret",tenant="${soon.tenant}"`);
  const value = Number(line!.split(' ').at(-1));
  t.ok(Math.abs(value - Date.parse(inDays(5)) / 1000) < 600, 'its expiry, in seconds');
  t.match(
    text,
    /sso_broker_credential_expiry_timestamp_seconds\{kind="certificate",tenant="",connection="",kid="b-later"\}/,
  );
});

t.test('the setup page warns of a secret expiring within 30 days', async (t) => {
  const link = await broker.admin('POST', `/admin/tenants/${soon.tenant}/setup-links`, {
    connection: soon.connectionId,
  });
  const html = await (await new TestBrowser().request(link.body.url)).text();
  t.match(
    html,
    /The client secret of version 1 expires on <time datetime="\d{4}-\d{2}-\d{2}T[^"]+"[^>]*>\d{1,2} \w{3} \d{4}<\/time>/,
  );
});

t.test('the log warns of each credential expiring within 30 days', async (t) => {
  const lines: { msg: string; kid?: string }[] = [];
  const keysDir = broker.config.keysDir;
  const expiring = new ExpiringCredentials({
    versions: { listSecretExpiries: async () => [] },
    keys: await loadBrokerKeys(keysDir, undefined),
    log: { warn: (obj, msg) => lines.push({ ...(obj as object), msg }) },
  });
  const stop = expiring.warnDaily(0);
  t.teardown(stop);
  t.ok(await waitFor(() => lines.length > 0));
  t.same(lines, [
    { kind: 'certificate', kid: 'a-soon', expiresAt: lines[0]!['expiresAt' as 'msg'], msg: 'certificate expires soon' },
  ]);
});
