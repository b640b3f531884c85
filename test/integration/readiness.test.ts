import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { READINESS_CACHE_MS } from '../../src/http/ops/health.route.js';
import { startBroker } from '../helpers/broker.js';
import { MIGRATIONS_DIR } from '../helpers/db.js';
import { waitFor } from '../helpers/wait.js';
import { testPool } from '../helpers/pg.js';

// Bug (issue 21, finding C): /readyz pinged the database on every call, with no limit before
// it: 300 calls under RATE_LIMIT_PER_MINUTE=20 were 300 queries. The database's answer is now
// shared for READINESS_CACHE_MS, and calls while a ping is in flight share that ping; the
// answer still follows the database within about a second.

t.test('a flood of /readyz costs the database a handful of pings; readiness still follows it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'broker-readiness-db-'));
  const cluster = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const pool = testPool({ connectionString: cluster.url, max: 1 });
  pool.on('error', () => {});
  await migrate(pool, MIGRATIONS_DIR, { info() {}, warn() {} });
  await pool.end();
  const broker = await startBroker(t, { rateLimitPerMinute: 20 }, { databaseUrl: cluster.url });
  let pings = 0;
  const ping = broker.database.ping.bind(broker.database);
  broker.database.ping = () => {
    pings++;
    return ping();
  };
  const readyz = () => fetch(`${broker.url}/readyz`).then((response) => response.status);

  const started = performance.now();
  const statuses: number[] = [];
  // 300 calls, 30 at a time: concurrent ones share a ping, later ones the cached answer.
  for (let batch = 0; batch < 10; batch++) statuses.push(...(await Promise.all(Array.from({ length: 30 }, readyz))));
  const elapsed = performance.now() - started;
  t.same(new Set(statuses), new Set([200]), 'all 300 are ready');
  t.ok(pings <= Math.ceil(elapsed / READINESS_CACHE_MS) + 1, `${pings} database pings in ${Math.round(elapsed)} ms`);
  t.ok(pings <= 5, 'a handful of pings, not one per call');

  await cluster.stop();
  stopped = true;
  const down = performance.now();
  t.ok(await waitFor(async () => (await readyz()) === 503, 3_000), 'not ready once the database is gone');
  t.comment(`503 after ${Math.round(performance.now() - down)} ms`);
  const answer = await fetch(`${broker.url}/readyz`);
  t.equal(answer.status, 503);
  t.match(await answer.json(), { error: 'not_ready', details: { database: 'down' } });
});
