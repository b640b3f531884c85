import { generateKeyPairSync, sign, verify } from 'node:crypto';
import type pg from 'pg';
import { Driver, runConcurrently } from './driver.js';
import { processCpuUs } from './proc-stats.js';

/**
 * What the unavoidable pieces of a login cost on this machine, next to what the issue measured
 * on its reference machine: the ratio says how to read the broker's own numbers here.
 */
export const REFERENCE = { fastifyRequestUs: 10, rs256VerifyUs: 17, rs256SignUs: 200, pgInsertUpdateUs: 100 };

export interface Calibration {
  fastifyRequestUs: number;
  rs256VerifyUs: number;
  rs256SignUs: number;
  pgInsertUpdateUs: number;
}

const cpuUs = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

export function rs256Costs(): Pick<Calibration, 'rs256VerifyUs' | 'rs256SignUs'> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('x'.repeat(600));
  const signature = sign('sha256', data, privateKey);
  for (let i = 0; i < 100; i++) verify('sha256', data, publicKey, signature);
  let start = cpuUs();
  for (let i = 0; i < 2000; i++) verify('sha256', data, publicKey, signature);
  const rs256VerifyUs = (cpuUs() - start) / 2000;
  start = cpuUs();
  for (let i = 0; i < 300; i++) sign('sha256', data, privateKey);
  return { rs256VerifyUs, rs256SignUs: (cpuUs() - start) / 300 };
}

/** Server CPU per keep-alive request of a bare Fastify process, at concurrency 16. */
export async function fastifyRequestUs(url: string, pid: number, requests: number): Promise<number> {
  const driver = new Driver(16);
  try {
    await runConcurrently(16, requests / 4, 30, () => driver.send('GET', url).then(() => undefined));
    const start = processCpuUs(pid);
    const { durations } = await runConcurrently(16, requests, 30, () => driver.send('GET', url).then(() => undefined));
    return (processCpuUs(pid) - start) / durations.length;
  } finally {
    driver.close();
  }
}

/** Client CPU of one INSERT plus one UPDATE by primary key (prepared), at concurrency 16. */
export async function pgInsertUpdateUs(pool: pg.Pool, pairs: number): Promise<number> {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_calibration (id int PRIMARY KEY, v text)');
  const pair = async (i: number) => {
    await pool.query({
      name: 'cal_insert',
      text: 'INSERT INTO bench_calibration (id, v) VALUES ($1, $2)',
      values: [i, 'x'.repeat(200)],
    });
    await pool.query({
      name: 'cal_update',
      text: 'UPDATE bench_calibration SET v = $2 WHERE id = $1',
      values: [i, 'y'],
    });
  };
  await runConcurrently(16, pairs / 4, 30, (i) => pair(-1 - i));
  const start = cpuUs();
  const { durations } = await runConcurrently(16, pairs, 30, pair);
  return (cpuUs() - start) / durations.length;
}
