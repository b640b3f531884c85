import { randomUUID } from 'node:crypto';
import t from 'tap';
import { ConfigCache } from '../../src/domain/live-config/config-cache.js';
import { createMetrics } from '../../src/observability/metrics.js';

// The configuration cache (src/domain/config-cache.ts) under attacker-chosen keys: app ids from
// login URLs, Host labels, login_hint domains. Fake repos count every database read.

const TENANT_ID = randomUUID();
const APP_ID = randomUUID();
const CONNECTION_ID = randomUUID();

function fakeRepos(options: { fail?: boolean } = {}) {
  const calls = { count: 0 };
  const read = async <T>(value: T | undefined): Promise<T | undefined> => {
    calls.count++;
    if (options.fail) throw new Error('database down');
    return value;
  };
  const tenant = { id: TENANT_ID, slug: 'acme', domains: ['acme.example'] };
  const repos = {
    tenants: {
      findBySlug: (slug: string) => read(slug === 'acme' ? tenant : undefined),
      findById: (id: string) => read(id === TENANT_ID ? tenant : undefined),
      findByDomain: (domain: string) => read(domain === 'acme.example' ? tenant : undefined),
    },
    apps: {
      findById: (id: string) => read(id === APP_ID ? { id: APP_ID } : undefined),
      listByReturnUrl: async () => [],
    },
    connections: {
      findById: (id: string) => read(id === CONNECTION_ID ? { id: CONNECTION_ID, tenantId: TENANT_ID } : undefined),
      findDefaultEnabled: (tenantId: string) =>
        read(tenantId === TENANT_ID ? { id: CONNECTION_ID, tenantId } : undefined),
      listEnabledByIssuer: async () => [],
    },
  };
  return {
    calls,
    repos: repos as unknown as Pick<ConstructorParameters<typeof ConfigCache>[0], 'tenants' | 'apps' | 'connections'>,
  };
}

t.test('memory rule: 100k distinct ill-formed keys make no database read and leave no entry', async (t) => {
  const { calls, repos } = fakeRepos();
  const directory = new ConfigCache({ ...repos, ttlMs: 60_000 });
  const long = 'x'.repeat(10_000);
  let found = 0;
  for (let i = 0; i < 100_000; i++) {
    if (await directory.apps.findById(`${long}${i}`)) found++;
    if (await directory.tenants.findBySlug(`Not A Slug ${i}`)) found++;
    if (await directory.tenants.findByDomain(`${long}.${i}.example`)) found++;
    if (await directory.connections.findById(`not-a-uuid-${i}`)) found++;
  }
  t.equal(found, 0, 'all answered "not found"');
  t.equal(calls.count, 0, 'no read');
  t.equal(directory.size, 0, 'no entry');
  for (const id of [`${APP_ID} `, APP_ID.replace(/-/g, ''), `${APP_ID}0`, ''])
    t.equal(await directory.apps.findById(id), undefined, `"${id}" is not an app id`);
  for (const slug of ['-acme', 'acme-', 'ACME', 'a'.repeat(64), 'acme.example'])
    t.equal(await directory.tenants.findBySlug(slug), undefined, `"${slug}" is not a slug`);
  for (const domain of ['acme', 'ACME.EXAMPLE', `${'a'.repeat(64)}.example`, 'acme..example', 'acme.example.'])
    t.equal(await directory.tenants.findByDomain(domain), undefined, `"${domain}" is not a domain`);
  t.equal(calls.count, 0, 'still no read');
});

t.test('memory rule: well-formed keys are found, and well-formed misses are cached', async (t) => {
  const { calls, repos } = fakeRepos();
  const metrics = createMetrics();
  const directory = new ConfigCache({ ...repos, ttlMs: 60_000, metrics });
  t.match(await directory.apps.findById(APP_ID), { id: APP_ID });
  t.match(await directory.tenants.findBySlug('acme'), { id: TENANT_ID });
  t.match(await directory.tenants.findById(TENANT_ID), { id: TENANT_ID });
  t.match(await directory.tenants.findByDomain('acme.example'), { id: TENANT_ID });
  t.match(await directory.connections.findById(CONNECTION_ID), { id: CONNECTION_ID });
  t.match(await directory.connections.findDefaultEnabled(TENANT_ID), { id: CONNECTION_ID });
  const unknownApp = randomUUID();
  t.equal(await directory.apps.findById(unknownApp), undefined);
  t.equal(await directory.tenants.findBySlug('other'), undefined);
  t.equal(await directory.tenants.findByDomain('other.example'), undefined);
  t.equal(calls.count, 9, 'one read each');

  t.match(await directory.apps.findById(APP_ID), { id: APP_ID });
  t.match(await directory.tenants.findBySlug('acme'), { id: TENANT_ID });
  t.equal(await directory.apps.findById(unknownApp), undefined);
  t.equal(await directory.tenants.findBySlug('other'), undefined);
  t.equal(await directory.tenants.findByDomain('other.example'), undefined);
  t.equal(calls.count, 9, 'found and not found both answered from the cache');

  const counted = await metrics.configCache.get();
  const byResult = Object.fromEntries(counted.values.map((v) => [v.labels.result, v.value]));
  t.same(byResult, { miss: 9, hit: 5 }, 'hits and misses counted');

  directory.clear();
  t.equal(directory.size, 0, 'clear() drops everything');
  await directory.apps.findById(APP_ID);
  await directory.apps.findById(unknownApp);
  t.equal(calls.count, 11, 'and the next lookups read again');
});

t.test('memory rule: concurrent lookups of one key share one read', async (t) => {
  const { calls, repos } = fakeRepos();
  const directory = new ConfigCache({ ...repos, ttlMs: 60_000 });
  const id = randomUUID();
  await Promise.all(Array.from({ length: 20 }, () => directory.apps.findById(id)));
  await Promise.all(Array.from({ length: 20 }, () => directory.apps.findById(APP_ID)));
  t.equal(calls.count, 2);
});

t.test('memory rule: entries are bounded, and guesses never evict the configuration', async (t) => {
  const { calls, repos } = fakeRepos();
  const directory = new ConfigCache({ ...repos, ttlMs: 60_000, maxEntries: 50, maxMissingEntries: 20 });
  await directory.apps.findById(APP_ID);
  await directory.tenants.findBySlug('acme');
  for (let i = 0; i < 10_000; i++) await directory.apps.findById(randomUUID());
  t.ok(directory.size <= 2 + 20, `at most the found entries and maxMissingEntries misses (${directory.size})`);
  const before = calls.count;
  t.match(await directory.apps.findById(APP_ID), { id: APP_ID });
  t.match(await directory.tenants.findBySlug('acme'), { id: TENANT_ID });
  t.equal(calls.count, before, 'the real app and tenant are still cached after 10k well-formed guesses');

  const small = new ConfigCache({ ...repos, ttlMs: 60_000, maxEntries: 3, maxMissingEntries: 3 });
  await small.apps.findById(APP_ID);
  await small.tenants.findBySlug('acme');
  await small.tenants.findById(TENANT_ID);
  await small.tenants.findByDomain('acme.example');
  await small.connections.findById(CONNECTION_ID);
  t.equal(small.size, 3, 'found entries are bounded by maxEntries too');
  const reads = calls.count;
  await small.apps.findById(APP_ID);
  t.equal(calls.count, reads + 1, 'the least recently used one was evicted');
});

t.test('memory rule: entries expire by TTL', async (t) => {
  const { calls, repos } = fakeRepos();
  let now = 1_000; // lru-cache takes a start time of 0 as "no TTL"
  const directory = new ConfigCache({ ...repos, ttlMs: 100, clock: { now: () => now } });
  await directory.apps.findById(APP_ID);
  const missing = randomUUID();
  await directory.apps.findById(missing);
  await directory.apps.findById(APP_ID);
  await directory.apps.findById(missing);
  t.equal(calls.count, 2, 'cached within the TTL');
  now += 150;
  // lru-cache reads its clock at most once per millisecond (its ttlResolution): let that pass.
  await new Promise((resolve) => setTimeout(resolve, 1));
  await directory.apps.findById(APP_ID);
  await directory.apps.findById(missing);
  t.equal(calls.count, 4, 'read again after it, found and not found alike');

  const uncached = new ConfigCache({ ...repos, ttlMs: 0 });
  await uncached.apps.findById(APP_ID);
  await uncached.apps.findById(APP_ID);
  t.equal(calls.count, 6, 'a TTL of 0 caches nothing');
  t.equal(uncached.size, 0);
});

t.test('a failed read is not remembered', async (t) => {
  const failing = fakeRepos({ fail: true });
  const directory = new ConfigCache({ ...failing.repos, ttlMs: 60_000 });
  await t.rejects(directory.apps.findById(APP_ID), /database down/);
  await t.rejects(directory.apps.findById(APP_ID), /database down/);
  t.equal(failing.calls.count, 2, 'the second lookup reads again');
  t.equal(directory.size, 0);
});
