import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.js';

export type Db = PrismaClient;

export interface Database {
  /** The connection string, for the dedicated LISTEN connection. */
  url: string;
  prisma: PrismaClient;
  /** The same pool Prisma uses; for the migration runner and single-statement hot paths. */
  pool: pg.Pool;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Prisma on node-postgres through the driver adapter: no engine binary involved. */
export function openDatabase(connectionString: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client's error (server restart, network cut) must not crash the process; the
  // pool drops that client and the next query opens a fresh one.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed = false;
  return {
    url: connectionString,
    prisma,
    pool,
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
