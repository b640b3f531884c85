import t from 'tap';
import { UNREACHED_PER_MINUTE } from '../../src/domain/login/attempt-outcomes.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { installClock } from '../helpers/clock.js';
import { waitFor } from '../helpers/wait.js';

// Storage rule: logins that fail before reaching an IdP are recorded (their request id finds
// them in the console), and they need no credential — so a flood of bad sign-in links must not
// grow the login audit without bound, nor hide a tenant's own learners' failures. Each process
// records at most UNREACHED_PER_MINUTE of them a minute per tenant, and as many with no tenant
// (the rest are counted in sso_login_attempts_unrecorded_total, and the log warns once a
// minute); the audit retention deletes them like every attempt. The test moves the process's
// clock to the start of a minute, so the flood falls in one minute of the broker's clock.

const MINUTE = 60_000;

/** A sign-in link for no app at all (no tenant known): its answer's request id. */
async function bogusLogin(broker: TestBroker): Promise<string> {
  const query = new URLSearchParams({ app: 'no-such-app', return_to: 'https://x.test/', tenant: 'nobody' });
  const response = await fetch(`${broker.url}/api/sso/login?${query}`, { headers: { accept: 'application/json' } });
  await response.arrayBuffer();
  if (response.status !== 400) throw new Error(`status ${response.status}`);
  return response.headers.get('x-request-id') ?? '';
}

async function flood(broker: TestBroker, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - sent) }, () => bogusLogin(broker)));
  }
}

const rowsWithoutTenant = async (broker: TestBroker) =>
  Number(
    (await broker.database.pool.query('SELECT count(*) AS n FROM login_attempts WHERE tenant_id IS NULL')).rows[0].n,
  );

const metric = async (broker: TestBroker, series: string) => {
  const text = await (await fetch(`${broker.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

t.test('a flood of logins for no organisation records a bounded number of attempts a minute', async (t) => {
  const logs: string[] = [];
  const broker = await startBroker(t, { rateLimitPerMinute: 0 }, { captureLogs: logs });
  const clock = installClock(t);
  clock.advance(MINUTE - (Date.now() % MINUTE) + 100); // the start of the next minute
  const minute = Math.floor(Date.now() / MINUTE);
  const extra = 100;
  await flood(broker, UNREACHED_PER_MINUTE + extra);
  t.equal(Math.floor(Date.now() / MINUTE), minute, 'the flood fell in one minute of the clock');
  t.equal(
    await metric(broker, 'sso_logins_failed_total{tenant="unknown",reason="unknown_app"}'),
    UNREACHED_PER_MINUTE + extra,
    'all counted as failures',
  );
  t.equal(
    await metric(broker, 'sso_login_attempts_unrecorded_total{tenant="unknown"}'),
    extra,
    'those past the budget counted as unrecorded',
  );
  t.equal(logs.filter((line) => line.includes('exceed the audit budget')).length, 1, 'one warning this minute');

  clock.advance(MINUTE);
  const next = await bogusLogin(broker);
  // Attempts are written in order, in batches: once this one is written, the flood's are too.
  t.ok(
    await waitFor(
      async () =>
        (await broker.database.pool.query('SELECT 1 FROM login_attempts WHERE request_id = $1', [next])).rowCount === 1,
      5_000,
    ),
    'the next minute has a budget of its own',
  );
  t.equal(
    await rowsWithoutTenant(broker),
    UNREACHED_PER_MINUTE + 1,
    `${UNREACHED_PER_MINUTE} of the flood recorded, and no more`,
  );
  const { rows: sample } = await broker.database.pool.query(
    'SELECT tenant_id, error, step FROM login_attempts LIMIT 1',
  );
  t.same(sample[0], { tenant_id: null, error: 'unknown_app', step: 'app' }, 'recorded under no tenant');
});

t.test('a flood of links for no organisation leaves a known tenant’s failure recorded', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 0 });
  const clock = installClock(t);
  clock.advance(MINUTE - (Date.now() % MINUTE) + 100);
  const minute = Math.floor(Date.now() / MINUTE);
  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'initech', name: 'Initech' })).status, 201);
  const returnTo = 'https://lms.example.test/done';
  const app = await broker.admin('POST', '/admin/apps', { name: 'LMS', returnUrls: [returnTo], tenants: ['initech'] });
  t.equal(app.status, 201);

  await flood(broker, UNREACHED_PER_MINUTE + 50);
  t.ok(await waitFor(async () => (await rowsWithoutTenant(broker)) >= UNREACHED_PER_MINUTE, 5_000), 'the flood');
  // A learner of Initech, which has no connection yet: their error page's request id.
  const query = new URLSearchParams({ app: app.body.id, return_to: returnTo, tenant: 'initech' });
  const learner = await fetch(`${broker.url}/api/sso/login?${query}`, { headers: { accept: 'application/json' } });
  t.equal(((await learner.json()) as { error: string }).error, 'no_connection');
  const requestId = learner.headers.get('x-request-id');
  t.equal(Math.floor(Date.now() / MINUTE), minute, 'in the same minute as the flood');

  let found: { requestId: string; error: string }[] = [];
  await waitFor(async () => {
    found = (await broker.admin('GET', '/admin/tenants/initech/logins')).body.logins;
    return found.length > 0;
  }, 3_000);
  t.match(found, [{ requestId, error: 'no_connection', outcome: 'failure' }], 'found by its request id');
});
