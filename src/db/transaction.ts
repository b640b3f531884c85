import type pg from 'pg';
import type { Sql } from '../domain/events/event-log.repo.js';

/**
 * Runs `work` in one transaction on a client of the pool: committed when it returns, rolled
 * back when it throws (the error goes on), the client released either way.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client as unknown as Sql);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
