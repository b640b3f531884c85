import { spawn } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { packageRoot } from '../../src/config/local.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { findTestFiles, runFiles, stopFiles } from './run-files.js';

/*
 * The test run (`npm test`; `npm run test:one -- <files>`): the compiled test files
 * (`npm run build:tests` emits them beside the app in dist/test/), two at a time, by
 * run-files.ts; one PostgreSQL for every file — an embedded cluster, or the server
 * DATABASE_URL names — with the schema migrated once into a template database that each file
 * copies (CREATE DATABASE … TEMPLATE, test/helpers/db.ts): about 0.1 s a file, where a cluster
 * of its own cost about 2 s (initdb, start, migrate); and one pool of RSA keys for the tests'
 * IdPs and brokers (test/helpers/test-keys.ts). With --coverage, V8 records every process's
 * coverage and c8 reports it (package.json's `c8`). When the run ends, however it ends, the
 * template is dropped, the cluster stopped and the keys removed.
 *
 * The embedded cluster runs without durability (fsync, full-page writes, synchronous commit
 * off): its data lives as long as the run. Tests that restart or kill a database start their own.
 *
 * Files are named by their source or their build: test/unit/x.test.ts runs dist/test/unit/x.test.js.
 * TEST_JOBS sets how many run at once; TEST_VERBOSE=1 prints every file's output, not only a failed one's.
 */

const root = packageRoot();
const args = process.argv.slice(2);
const coverage = args[0] === '--coverage';
const named = (coverage ? args.slice(1) : args).map((arg) =>
  resolve(root, /^(\.\/)?test\/.+\.ts$/.test(arg) ? join('dist', arg.replace(/\.ts$/, '.js')) : arg),
);
const files = named.length > 0 ? named : findTestFiles(join(root, 'dist/test'));
const coverageDir = join(
  root,
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { c8: { tempDirectory: string } }).c8.tempDirectory,
);

// The tests' RSA keys, made once for the run (test/helpers/test-keys.ts draws from them).
const keyPool = await mkdtemp(join(tmpdir(), 'broker-test-keys-'));
await Promise.all(
  Array.from({ length: 16 }, async (_, i) => {
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    await writeFile(
      join(keyPool, `key-${String(i).padStart(2, '0')}.pem`),
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
  }),
);

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

  if (coverage) await rm(coverageDir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: server, BROKER_TEST_TEMPLATE: template };
  env.TEST_KEY_POOL = keyPool;
  if (coverage) env.NODE_V8_COVERAGE = coverageDir;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopFiles(signal));
  const totals = await runFiles(files, {
    cwd: root,
    env,
    jobs: Number(process.env.TEST_JOBS ?? 2),
    timeoutSeconds: 120,
    verbose: process.env.TEST_VERBOSE === '1',
  });
  const { failedFiles, ...counts } = totals;
  // As tap ends its report (.ci/run reads this line): # { total: N, pass: P, fail: F, … }
  console.log(
    `# { ${Object.entries(counts)
      .map(([key, n]) => `${key}: ${n}`)
      .join(', ')} }`,
  );
  for (const file of failedFiles) console.log(`# failed: ${file}`);
  code = failedFiles.length > 0 ? 1 : 0;
  if (coverage) {
    const report = await c8Report(); // also after a failure, as c8 does
    code ||= report;
  }
} finally {
  // Whatever happened, nothing of this run is left behind: the template, the cluster, its files.
  await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`)).catch(
    () => {},
  );
  await cluster?.stop();
  if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
  await rm(keyPool, { recursive: true, force: true });
}
process.exit(code);

/** c8's report of what the processes recorded, and its thresholds (package.json's `c8`). */
function c8Report(): Promise<number> {
  const c8 = spawn(join(root, 'node_modules/.bin/c8'), ['report'], { cwd: root, stdio: 'inherit' });
  return new Promise((done) => c8.on('exit', (status) => done(status ?? 1)));
}

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
