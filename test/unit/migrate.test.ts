import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { MIGRATIONS_DIR, testDatabaseUrl } from '../helpers/db.js';
import { testPool } from '../helpers/pg.js';

const quiet = { info() {}, warn() {} };

t.test('the runner keeps Prisma’s bookkeeping, so `prisma migrate deploy` sees an up-to-date database', async (t) => {
  const url = await testDatabaseUrl(t); // already migrated once by the helper
  // Ended in the test body: teardowns stop the cluster, and an idle client must not outlive it.
  const pool = testPool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const migrations = await readMigrations(MIGRATIONS_DIR);
  t.ok(migrations.length >= 1);
  const { rows } = await pool.query(
    'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
  );
  t.equal(rows.length, migrations.length, 'one row per migration');
  for (const [index, migration] of migrations.entries()) {
    const sql = await readFile(join(MIGRATIONS_DIR, migration.name, 'migration.sql'), 'utf8');
    t.equal(rows[index].migration_name, migration.name);
    t.equal(
      rows[index].checksum,
      createHash('sha256').update(sql).digest('hex'),
      'Prisma’s checksum: sha256 of migration.sql, hex',
    );
    t.ok(rows[index].finished_at instanceof Date);
    t.equal(rows[index].rolled_back_at, null);
    t.equal(rows[index].applied_steps_count, 1);
  }
  t.same(await migrate(pool, MIGRATIONS_DIR, quiet), [], 'a second run applies nothing');
  const concurrent = await Promise.all([migrate(pool, MIGRATIONS_DIR, quiet), migrate(pool, MIGRATIONS_DIR, quiet)]);
  t.same(concurrent, [[], []], 'concurrent runs (two replicas starting) are serialised by the advisory lock');
  await pool.end();
});

t.test('a migration that failed earlier stops start-up until an operator resolves it', async (t) => {
  const url = await testDatabaseUrl(t);
  const pool = testPool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  await pool.query(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('00000000-0000-0000-0000-000000000001', 'x', '29991231000000_broken')`,
  );
  await t.rejects(migrate(pool, MIGRATIONS_DIR, quiet), /29991231000000_broken failed earlier/);
  await pool.end();
});

t.test('v4: the domains there before verification existed are verified by the migration', async (t) => {
  const url = new URL(await testDatabaseUrl(t));
  const admin = testPool({ connectionString: url.href, max: 1 });
  admin.on('error', () => {});
  await admin.query('CREATE SCHEMA before_v4');
  await admin.end();
  // A database as it was before verified domains: every migration up to them, in a schema of its own.
  url.searchParams.set('options', '-c search_path=before_v4');
  const pool = testPool({ connectionString: url.href, max: 1 });
  pool.on('error', () => {});
  const earlier = await mkdtemp(join(tmpdir(), 'migrations-before-v4-'));
  t.teardown(() => rm(earlier, { recursive: true, force: true }));
  for (const migration of await readMigrations(MIGRATIONS_DIR)) {
    if (migration.name >= '20261207233000') break;
    await cp(join(MIGRATIONS_DIR, migration.name), join(earlier, migration.name), { recursive: true });
  }
  await migrate(pool, earlier, quiet);
  await pool.query(`INSERT INTO tenants (id, slug, name, updated_at) VALUES ('t1', 'acme', 'Acme', now())`);
  await pool.query(`INSERT INTO tenant_domains (domain, tenant_id) VALUES ('acme.example', 't1')`);

  await migrate(pool, MIGRATIONS_DIR, quiet);
  const { rows } = await pool.query(
    `SELECT domain, verified, verified_by, verified_at IS NOT NULL AS dated, token FROM tenant_domains`,
  );
  t.match(rows, [
    { domain: 'acme.example', verified: true, verified_by: 'migration', dated: true, token: /^[0-9a-f]{32}$/ },
  ]);
  await pool.end();
});
