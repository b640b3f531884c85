import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../prisma/migrations');

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A fresh, migrated PostgreSQL database for one test file: a new database in DATABASE_URL's
 * server when set, otherwise a throwaway embedded cluster.
 */
export async function testDatabaseUrl(t: Teardown): Promise<string> {
  const base = process.env.DATABASE_URL;
  let url: string;
  if (base) {
    const name = `broker_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const parsed = new URL(base);
    parsed.pathname = `/${name}`;
    url = parsed.href;
    t.teardown(async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'broker-test-db-'));
    const cluster = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
    url = cluster.url;
    t.teardown(async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await migrate(pool, MIGRATIONS_DIR, { info() {}, warn() {} });
  await pool.end();
  return url;
}
