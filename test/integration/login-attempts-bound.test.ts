import t from 'tap';
import { UNREACHED_PER_MINUTE } from '../../src/domain/login/attempt-outcomes.js';
import { startBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/wait.js';

// Storage rule: logins that fail before a tenant is known are recorded (their request id finds
// them in the console), and they need no credential — so a flood of bad sign-in links must not
// grow the login audit without bound. Each process records at most UNREACHED_PER_MINUTE of them
// a minute (the rest are counted in the metrics only); the audit retention deletes them like
// every attempt.

t.test('a flood of logins for no organisation records a bounded number of attempts', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 0 });
  const flood = UNREACHED_PER_MINUTE + 100;
  const firstMinute = Math.floor(Date.now() / 60_000);
  for (let sent = 0; sent < flood; sent += 50) {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const query = new URLSearchParams({ app: 'no-such-app', return_to: 'https://x.test/', tenant: 'nobody' });
        const response = await fetch(`${broker.url}/api/sso/login?${query}`, {
          headers: { accept: 'application/json' },
        });
        await response.arrayBuffer();
        if (response.status !== 400) throw new Error(`status ${response.status}`);
      }),
    );
  }
  const minutes = Math.floor(Date.now() / 60_000) - firstMinute + 1;
  const rows = async () =>
    Number((await broker.database.pool.query('SELECT count(*) AS n FROM login_attempts')).rows[0].n);
  t.ok(await waitFor(async () => (await rows()) >= UNREACHED_PER_MINUTE, 5_000), 'the attempts are recorded');
  const recorded = await rows();
  t.ok(recorded <= UNREACHED_PER_MINUTE * minutes, `at most ${UNREACHED_PER_MINUTE} a minute (${recorded})`);
  t.ok(recorded < flood || minutes > 1, 'not every one of the flood');
  const { rows: sample } = await broker.database.pool.query(
    'SELECT tenant_id, error, step FROM login_attempts LIMIT 1',
  );
  t.same(sample[0], { tenant_id: null, error: 'unknown_app', step: 'app' }, 'recorded under no tenant');
  const metrics = await (await fetch(`${broker.url}/metrics`)).text();
  t.match(
    metrics,
    new RegExp(`sso_logins_failed_total\\{tenant="unknown",reason="unknown_app"\\} ${flood}`),
    'all counted',
  );
});
