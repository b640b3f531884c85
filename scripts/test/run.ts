import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { packageRoot } from '../../src/config/local.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

/*
 * The test run (`npm test`; `npm run test:one -- <files>`): one PostgreSQL for every test file —
 * an embedded cluster, or the server DATABASE_URL names — with the schema migrated once into a
 * template database that each file copies (CREATE DATABASE … TEMPLATE, test/helpers/db.ts):
 * about 0.1 s a file, where a cluster of its own cost about 2 s (initdb, start, migrate). Then
 * tap with the arguments given (under c8 with --coverage); when it ends, however it ends, the
 * template is dropped and the cluster stopped.
 *
 * The embedded cluster runs without durability (fsync, full-page writes, synchronous commit
 * off): its data lives as long as the run. Tests that restart or kill a database start their own.
 */

const root = packageRoot();
const args = process.argv.slice(2);
const coverage = args[0] === '--coverage';
const tapArgs = coverage ? args.slice(1) : args;

let cluster: EmbeddedCluster | undefined;
let clusterDir: string | undefined;
let server = process.env.DATABASE_URL;
if (!server) {
  clusterDir = await mkdtemp(join(tmpdir(), 'broker-test-run-'));
  cluster = await startEmbeddedPostgres({
    dataDir: clusterDir,
    persistent: false,
    postgresFlags: [
      ...['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off'],
      ...['-c', 'max_connections=500'],
    ],
  });
  server = cluster.url;
}

const template = `broker_test_template_${randomBytes(4).toString('hex')}`;
let code: number;
try {
  await withClient(server, (client) => client.query(`CREATE DATABASE ${template}`));
  const templateUrl = new URL(server);
  templateUrl.pathname = `/${template}`;
  const pool = new pg.Pool({ connectionString: templateUrl.href, max: 1 });
  pool.on('error', () => {});
  await migrate(pool, join(root, 'prisma/migrations'), { info() {}, warn() {} });
  await pool.end();

  const bin = (name: string) => join(root, 'node_modules/.bin', name);
  const child = spawn(coverage ? bin('c8') : bin('tap'), coverage ? ['tap', ...tapArgs] : tapArgs, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: server, BROKER_TEST_TEMPLATE: template },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  code = await new Promise<number>((resolve) =>
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))),
  );
} finally {
  // Whatever happened, nothing of this run is left behind: the template, the cluster, its files.
  await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)).catch(
    () => {},
  );
  await cluster?.stop();
  if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
}
process.exit(code);

async function withClient(url: string, use: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}
