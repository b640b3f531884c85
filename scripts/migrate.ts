/**
 * npm run db:migrate — applies pending migrations to DATABASE_URL and exits; for operators who
 * set MIGRATE_ON_START=false and migrate as a deploy step. Same bookkeeping as
 * `prisma migrate deploy`, so either tool can be used on the same database.
 */
import { resolve } from 'node:path';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/observability/logger.js';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL: required\n');
  process.exit(1);
}
const database = openDatabase(url, { max: 1 });
try {
  const applied = await migrate(database.pool, resolve('prisma/migrations'), createLogger('info'));
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
} finally {
  await database.close();
}
