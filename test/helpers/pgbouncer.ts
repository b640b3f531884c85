import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/config/local.js';
import { testClient } from './pg.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

/** Why PgBouncer cannot run here, or undefined. */
export function pgbouncerMissing(): string | undefined {
  return existsSync(PGBOUNCER) ? undefined : `${PGBOUNCER} is not installed (apt-get install pgbouncer)`;
}

/**
 * Debian's PgBouncer in front of `databaseUrl`, in transaction mode (a server connection per
 * transaction, no prepared statements kept: 1.18 has no support for them). Returns its URL.
 */
export async function startPgBouncer(t: { teardown(fn: () => unknown): void }, databaseUrl: string): Promise<string> {
  const direct = new URL(databaseUrl);
  const user = decodeURIComponent(direct.username);
  const password = decodeURIComponent(direct.password);
  const dir = await mkdtemp(join(tmpdir(), 'pgbouncer-'));
  // As root, PgBouncer drops to the postgres user, which must read its files; it logs to
  // stderr and writes nothing here.
  await chmod(dir, 0o755);
  const port = await freePort();
  const ini = [
    '[databases]',
    `broker = host=${direct.hostname} port=${direct.port} dbname=${direct.pathname.slice(1)}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = plain',
    `auth_file = ${join(dir, 'users.txt')}`,
    'pool_mode = transaction',
    'max_client_conn = 200',
    'default_pool_size = 10',
    'ignore_startup_parameters = extra_float_digits,options',
    ...(process.getuid?.() === 0 ? ['user = postgres'] : []),
    '',
  ].join('\n');
  await writeFile(join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  await writeFile(join(dir, 'users.txt'), `"${user}" "${password}"\n`, { mode: 0o644 });
  const child = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.pathname = '/broker';
  for (let i = 0; ; i++) {
    const client = testClient({ connectionString: url.href });
    const ok = await client.connect().then(
      () => client.end().then(() => true),
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || i > 100) throw new Error(`pgbouncer did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.teardown(async () => {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
    await rm(dir, { recursive: true, force: true });
  });
  return url.href;
}
