import pg from 'pg';

/*
 * The only way tests open PostgreSQL connections of their own (the lint config forbids
 * `new pg.Pool` and `new pg.Client` elsewhere in test/): a connection whose server goes away —
 * a database dropped at a file's end, a cluster stopped or restarted on purpose — emits
 * 'error', and an EventEmitter's 'error' without a listener ends the process, with every test
 * still running in it. Each of these listens, and keeps what it heard for a test to look at.
 */

export function testPool(config: pg.PoolConfig): pg.Pool & { errors: Error[] } {
  const pool = Object.assign(new pg.Pool(config), { errors: [] as Error[] });
  pool.on('error', (error) => void pool.errors.push(error));
  return pool;
}

export function testClient(config: pg.ClientConfig): pg.Client & { errors: Error[] } {
  const client = Object.assign(new pg.Client(config), { errors: [] as Error[] });
  client.on('error', (error) => void client.errors.push(error));
  return client;
}
