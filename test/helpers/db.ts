import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { testClient, testPool } from './pg.js';
import { packageRoot } from '../../src/config/local.js';

export const MIGRATIONS_DIR = join(packageRoot(), 'prisma/migrations');

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A fresh, migrated PostgreSQL database for one test file, dropped when the file ends: a copy
 * of the run's template database (scripts/test/run.ts sets BROKER_TEST_TEMPLATE and
 * DATABASE_URL), else a new database migrated in DATABASE_URL's server, else — a file run by
 * tap alone — a throwaway embedded cluster.
 */
export async function testDatabaseUrl(t: Teardown): Promise<string> {
  const base = process.env.DATABASE_URL;
  const template = process.env.BROKER_TEST_TEMPLATE;
  if (!base) return embeddedDatabase(t);
  const name = `broker_test_${randomBytes(6).toString('hex')}`;
  await onServer(base, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  t.teardown(() => onServer(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const parsed = new URL(base);
  parsed.pathname = `/${name}`;
  if (!template) await migrateDatabase(parsed.href);
  return parsed.href;
}

async function embeddedDatabase(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'broker-test-db-'));
  const cluster = await startEmbeddedPostgres({ dataDir: dir, persistent: false });
  t.teardown(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await migrateDatabase(cluster.url);
  return cluster.url;
}

async function migrateDatabase(url: string): Promise<void> {
  const pool = testPool({ connectionString: url, max: 1 });
  await migrate(pool, MIGRATIONS_DIR, { info() {}, warn() {} });
  await pool.end();
}

async function onServer(url: string, sql: string): Promise<void> {
  const client = testClient({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
