/**
 * npm run bench [-- --soak] [--quick] [--out FILE]
 *
 * Complete logins through the real HTTP surface, measured per process: the broker (compiled,
 * in its own process, production settings: info logs, rate limits on), PostgreSQL (embedded,
 * with pg_stat_statements to count SQL), the stub IdP (its own process) and this driver.
 * Phases: each client-auth method at concurrency 1, 16 and 64; ticket redemption alone; two
 * broker replicas on one database. --soak runs 100,000 logins and reports the broker's RSS at
 * 20,000 and 100,000. Prints a table and writes JSON (default bench-result.json).
 * Options for finding hot spots: --profile DIR (the broker's V8 CPU profiles), --env KEY=VALUE
 * (broker settings), --method M and --concurrency N (run only those login phases), --logins-only
 * (no reference, redemption or replica phase), --reference-log off (the reference relying party
 * without its access log). --compare <git ref> [--rounds N] runs this checkout's bench and that
 * commit's alternately and prints the two side by side (compare.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { freePort } from '../../src/config/local.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { REFERENCE, fastifyRequestUs, pgInsertUpdateUs, rs256Costs, type Calibration } from './calibrate.js';
import { compare } from './compare.js';
import { sessionEndedLatency } from './webhook-latency.js';
import { Driver, percentile, runConcurrently, type Target } from './driver.js';
import { memoryMiB, processCpuUs, treeCpuUs } from './proc-stats.js';
import { referenceMissing, startReferenceRp } from './reference-rp.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = resolve(HERE, '../../src/main.js');
const STUB_IDP = resolve(HERE, 'stub-idp.js');
const BARE_FASTIFY = resolve(HERE, 'bare-fastify.js');

const { values: args } = parseArgs({
  options: {
    soak: { type: 'boolean' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
    profile: { type: 'string' },
    env: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    method: { type: 'string' },
    'logins-only': { type: 'boolean' },
    /** off: the reference relying party writes no access log (on, like the broker's, by default). */
    'reference-log': { type: 'string', default: 'on' },
    /** A git ref: build it in a worktree and run both benches alternately (compare.ts). */
    compare: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});
if (args.compare !== undefined) {
  // Everything but --compare and --rounds goes to both benches.
  const passOn = process.argv.slice(2).filter((arg, i, all) => {
    const option = arg.split('=')[0];
    const previous = all[i - 1];
    return option !== '--compare' && option !== '--rounds' && previous !== '--compare' && previous !== '--rounds';
  });
  await compare(args.compare, Number(args.rounds), passOn);
  process.exit(0);
}
/** --logins-only: the login phases alone (a profile of logins and nothing else). */
const loginsOnly = args['logins-only'] === true;
const quick = args.quick === true;
const log = (line: string) => process.stderr.write(`${line}\n`);

const children: ChildProcess[] = [];
/**
 * Starts `node file …argv` and resolves once it is ready: when `readyUrl` answers 2xx (the
 * broker's /readyz), else at its first line of output (the stub IdP and bare Fastify print one).
 */
function start(
  file: string,
  argv: string[],
  options: { env?: Record<string, string>; readyUrl?: string } = {},
): Promise<ChildProcess> {
  // --profile DIR: V8 CPU profiles of the broker (open them in Chrome DevTools), to find hot spots.
  const nodeArgs = args.profile && file === MAIN ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, file, ...argv], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((ready, fail) => {
    child.on('exit', (code) => fail(new Error(`${file} exited ${code}: ${stderr}`)));
    const { readyUrl } = options;
    if (readyUrl === undefined) {
      child.stdout!.once('data', () => ready(child));
    } else {
      const poll = async () =>
        (await fetch(readyUrl).then(
          (r) => r.ok,
          () => false,
        ))
          ? ready(child)
          : setTimeout(() => void poll(), 50);
      void poll();
    }
    // The broker's info logs are part of its cost; they go nowhere.
    child.stdout!.resume();
  });
}

// ---- the stage: a database, the broker, the IdP, one tenant per method, an app -------------
const work = await mkdtemp(join(tmpdir(), 'sso-bench-'));
// As root, PostgreSQL runs as its own user, which must be able to reach its cluster directory.
await chmod(work, 0o711);
const cluster = await startEmbeddedPostgres({
  dataDir: join(work, 'db'),
  persistent: false,
  postgresFlags: [
    '-c',
    'shared_preload_libraries=pg_stat_statements',
    '-c',
    'pg_stat_statements.track=all',
    '-c',
    'max_connections=200',
  ],
});
const postmasterPid = Number(readFileSync(join(cluster.clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
const stats = new pg.Pool({ connectionString: cluster.url, max: 1 });
await stats.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');

const keysDir = join(work, 'keys');
await generateBrokerKey(keysDir, { kid: 'bench-key' });
const brokerPort = await freePort();
const publicUrl = `http://127.0.0.1:${brokerPort}`;
const adminToken = randomBytes(24).toString('base64url');
const brokerEnv = {
  DATABASE_URL: cluster.url,
  SECRET_KEY: randomBytes(32).toString('base64url'),
  ADMIN_TOKEN: adminToken,
  HOST: '127.0.0.1',
  PUBLIC_URL: publicUrl,
  KEYS_DIR: keysDir,
  // The stub IdP listens on this machine over http (contract: IDP_PRIVATE_NETWORKS), and so
  // does the webhook phase's endpoint.
  IDP_PRIVATE_NETWORKS: '127.0.0.0/8',
  WEBHOOK_PRIVATE_NETWORKS: '127.0.0.0/8',
  TICKET_TTL_SECONDS: '600',
  // On, as in production, but high enough for one client address doing thousands per second.
  RATE_LIMIT_PER_MINUTE: '1000000',
  // --env KEY=VALUE: try the broker with other settings (LOG_LEVEL=warn, say).
  ...Object.fromEntries(
    (args.env ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ),
};
const startBroker = (port: number) =>
  start(MAIN, [], { env: { ...brokerEnv, PORT: String(port) }, readyUrl: `http://127.0.0.1:${port}/readyz` });

const brokers = [await startBroker(brokerPort)];
const idpPort = await freePort();
const clientSecret = randomBytes(24).toString('base64url');
const idp = await start(STUB_IDP, [String(idpPort), `${publicUrl}/.well-known/jwks.json`, clientSecret]);

async function admin(path: string, body: unknown) {
  const response = await fetch(`${publicUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, string>;
}
const returnTo = 'https://app.bench.example/sso/done';
const app = await admin('/admin/apps', { name: 'Bench app', returnUrls: [returnTo] });
const methods = ['client_secret_post', 'private_key_jwt'] as const;
const connectionIds: Partial<Record<(typeof methods)[number], string>> = {};
for (const method of methods) {
  await admin('/admin/tenants', { slug: `bench-${method.replaceAll('_', '-')}`, name: method });
  connectionIds[method] = (
    await admin(`/admin/tenants/bench-${method.replaceAll('_', '-')}/connections`, {
      issuer: `http://127.0.0.1:${idpPort}`,
      clientId: `bench-${method}`,
      tokenEndpointAuthMethod: method,
      ...(method === 'client_secret_post' && { clientSecret }),
    })
  ).id;
}
const target = (method: (typeof methods)[number], origins = [publicUrl]): Target => ({
  origins,
  publicUrl,
  app: { id: app.id!, secret: app.secret! },
  tenant: `bench-${method.replaceAll('_', '-')}`,
  returnTo,
});

// ---- measuring ---------------------------------------------------------------------------
interface Snapshot {
  broker: number;
  postgres: number;
  idp: number;
  driver: number;
  /** The reference relying party (Apache + mod_auth_openidc) while its phase runs. */
  reference: number;
}
/** The Apache parent's pid while the reference phase runs. */
let referencePid: number | undefined;
const snapshot = (): Snapshot => {
  const driver = process.cpuUsage();
  return {
    broker: brokers.reduce((sum, b) => sum + processCpuUs(b.pid!), 0),
    postgres: treeCpuUs(postmasterPid),
    idp: processCpuUs(idp.pid!),
    driver: driver.user + driver.system,
    reference: referencePid === undefined ? 0 : treeCpuUs(referencePid),
  };
};

async function sqlStatements() {
  const { rows } = await stats.query<{ query: string; calls: string }>(
    `SELECT query, calls FROM pg_stat_statements WHERE query !~* 'pg_stat_statements' AND calls > 0 ORDER BY calls DESC`,
  );
  return rows.map((row) => ({ query: row.query.replace(/\s+/g, ' ').trim(), calls: Number(row.calls) }));
}

export interface PhaseResult {
  phase: string;
  method: string;
  concurrency: number;
  brokers: number;
  operations: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  cpuUsPerOp: Snapshot;
  sqlPerOp: number;
  sql: { query: string; perOp: number }[];
  brokerRssMiB: number;
  brokerPeakRssMiB: number;
}

async function measure(
  phase: string,
  method: string,
  concurrency: number,
  count: number,
  seconds: number,
  task: (i: number) => Promise<void>,
): Promise<PhaseResult> {
  await stats.query('SELECT pg_stat_statements_reset()');
  const before = snapshot();
  const { durations, wallMs } = await runConcurrently(concurrency, count, seconds, task);
  const after = snapshot();
  const sql = await sqlStatements();
  const n = durations.length;
  const sorted = durations.sort((a, b) => a - b);
  const per = (key: keyof Snapshot) => Math.round((after[key] - before[key]) / n);
  const memory = brokers.map((b) => memoryMiB(b.pid!));
  const sqlCalls = sql.reduce((sum, s) => sum + s.calls, 0);
  const result: PhaseResult = {
    phase,
    method,
    concurrency,
    brokers: brokers.length,
    operations: n,
    perSecond: Math.round((n / wallMs) * 1000),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    cpuUsPerOp: {
      broker: per('broker'),
      postgres: per('postgres'),
      idp: per('idp'),
      driver: per('driver'),
      reference: per('reference'),
    },
    sqlPerOp: round(sqlCalls / n),
    sql: sql.map((s) => ({ query: s.query.slice(0, 160), perOp: round(s.calls / n) })),
    brokerRssMiB: round(memory.reduce((sum, m) => sum + m.rss, 0)),
    brokerPeakRssMiB: round(Math.max(...memory.map((m) => m.peak))),
  };
  log(
    phase === 'reference'
      ? `  ${phase} ${method} c=${concurrency}: ${result.perSecond}/s, p99 ${result.p99Ms} ms, Apache + mod_auth_openidc ${result.cpuUsPerOp.reference} µs/op`
      : `  ${phase} ${method} c=${concurrency}: ${result.perSecond}/s, p99 ${result.p99Ms} ms, broker ${result.cpuUsPerOp.broker} µs/op, pg ${result.cpuUsPerOp.postgres} µs/op, ${result.sqlPerOp} SQL/op`,
  );
  return result;
}
const round = (x: number) => Math.round(x * 100) / 100;

const drivers: Driver[] = [];
const driverFor = (concurrency: number) => {
  const driver = new Driver(concurrency);
  drivers.push(driver);
  return driver;
};
const completeLogin = (driver: Driver, t: Target) => async (i: number) => {
  const origin = t.origins[i % t.origins.length]!;
  await driver.redeem(t, origin, await driver.browserLogin(t, origin));
};

const results: PhaseResult[] = [];
let referenceVersion: string | undefined;
const soak: { logins: number; brokerRssMiB: number }[] = [];
let calibration: Calibration | undefined;
let webhookLatency: Awaited<ReturnType<typeof sessionEndedLatency>> | undefined;
try {
  if (!args.soak) {
    // This machine against the reference machine, on what no broker can avoid.
    const barePort = await freePort();
    const bare = await start(BARE_FASTIFY, [String(barePort)]);
    const calibrationPool = new pg.Pool({ connectionString: cluster.url, max: 10 });
    calibration = {
      fastifyRequestUs: round(
        await fastifyRequestUs(`http://127.0.0.1:${barePort}/`, bare.pid!, quick ? 2000 : 20_000),
      ),
      pgInsertUpdateUs: round(await pgInsertUpdateUs(calibrationPool, quick ? 500 : 4000)),
      ...rs256Costs(),
    };
    calibration.rs256SignUs = round(calibration.rs256SignUs);
    calibration.rs256VerifyUs = round(calibration.rs256VerifyUs);
    bare.kill('SIGTERM');
    await calibrationPool.end();
    log(`  calibration: ${JSON.stringify(calibration)}`);
  }
  if (args.soak) {
    const driver = driverFor(16);
    const t = target('client_secret_post');
    const batch = 20_000;
    for (let done = 0; done < 100_000; done += batch) {
      const result = await measure('soak', 'client_secret_post', 16, batch, 3600, completeLogin(driver, t));
      results.push(result);
      soak.push({ logins: done + result.operations, brokerRssMiB: result.brokerRssMiB });
      log(`  soak: ${done + result.operations} logins, broker RSS ${result.brokerRssMiB} MiB`);
    }
  } else {
    const plan: [number, number, number][] = quick
      ? [
          [1, 20, 5],
          [16, 64, 5],
        ]
      : [
          [1, 1000, 8],
          [16, 10_000, 10],
          [64, 10_000, 10],
        ];
    // --method and --concurrency narrow the run to one method or one concurrency.
    for (const method of methods.filter((m) => !args.method || m === args.method)) {
      for (const [concurrency, count, seconds] of plan.filter(
        ([c]) => !args.concurrency || c === Number(args.concurrency),
      )) {
        const driver = driverFor(concurrency);
        const t = target(method);
        await runConcurrently(concurrency, quick ? 20 : 1500, 10, completeLogin(driver, t)); // warm-up: JIT, caches, pools
        results.push(await measure('login', method, concurrency, count, seconds, completeLogin(driver, t)));
      }
    }

    // The reference relying party, same stub IdP, same driver, same concurrency: the bar.
    const missing = referenceMissing();
    if (quick) log('  reference relying party: skipped (--quick)');
    else if (loginsOnly) log('  reference relying party: skipped (--logins-only)');
    else if (missing) log(`  reference relying party: skipped, ${missing}`);
    else {
      for (const method of methods.filter((m) => !args.method || m === args.method)) {
        const concurrency = Number(args.concurrency ?? 16);
        const rp = await startReferenceRp({
          dir: join(work, `apache-${method}`),
          port: await freePort(),
          idpIssuer: `http://127.0.0.1:${idpPort}`,
          clientId: `reference-${method}`,
          method,
          clientSecret,
          key: {
            kid: 'bench-key',
            file: join(keysDir, 'bench-key.pem'),
            certificate: join(keysDir, 'bench-key.crt'),
          },
          accessLog: args['reference-log'] !== 'off',
        });
        referencePid = rp.pid;
        referenceVersion = rp.version;
        try {
          const driver = driverFor(concurrency);
          await runConcurrently(concurrency, 1500, 10, () => driver.referenceLogin(rp.origin)); // warm-up
          results.push(
            await measure('reference', method, concurrency, 10_000, 10, () => driver.referenceLogin(rp.origin)),
          );
        } finally {
          referencePid = undefined;
          await rp.stop();
        }
      }
    }

    if (!loginsOnly) {
      // Ticket redemption alone: mint tickets first, then redeem them as fast as apps can.
      const driver = driverFor(64);
      const t = target('client_secret_post');
      const tickets: string[] = [];
      await runConcurrently(
        64,
        quick ? 64 : 12_000,
        quick ? 5 : 12,
        async () => void tickets.push(await driver.browserLogin(t, publicUrl)),
      );
      results.push(
        await measure('redeem', 'client_secret_post', 16, tickets.length, 30, async (i) => {
          await driver.redeem(t, publicUrl, tickets[i]!);
        }),
      );

      // Back-channel logout to the app's webhook, one at a time, while logins run at c=16.
      const loadDriver = driverFor(16);
      webhookLatency = await sessionEndedLatency({
        samples: quick ? 10 : 200,
        driver: driverFor(1),
        target: t,
        idpUrl: `http://127.0.0.1:${idpPort}`,
        clientId: 'bench-client_secret_post',
        connectionId: connectionIds.client_secret_post!,
        admin,
        load: async (stopped) => {
          const login = completeLogin(loadDriver, t);
          await Promise.all(
            Array.from({ length: 16 }, async (_, worker) => {
              for (let i = worker; !stopped(); i += 16) await login(i);
            }),
          );
        },
      });
      log(
        `  session.ended under login load (c=16): median ${webhookLatency.medianMs} ms, p99 ${webhookLatency.p99Ms} ms ` +
          `from the logout token to the app's endpoint (${webhookLatency.samples} sessions)`,
      );

      // Scale-out: a second replica on the same database; the driver balances logins over both.
      const secondPort = await freePort();
      brokers.push(await startBroker(secondPort));
      const both = target('client_secret_post', [publicUrl, `http://127.0.0.1:${secondPort}`]);
      const scaled = driverFor(16);
      await runConcurrently(16, quick ? 20 : 300, 10, completeLogin(scaled, both));
      results.push(
        await measure(
          '2 replicas',
          'client_secret_post',
          16,
          quick ? 64 : 10_000,
          quick ? 5 : 10,
          completeLogin(scaled, both),
        ),
      );
    }
  }
} finally {
  for (const driver of drivers) driver.close();
  for (const child of children) child.kill('SIGTERM');
  await stats.end();
  await new Promise((done) => setTimeout(done, 300));
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}

// ---- report --------------------------------------------------------------------------------
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  date: new Date().toISOString(),
};
const header =
  '| phase | method | conc. | ops | ops/s | p50 ms | p90 ms | p99 ms | broker µs/op | PostgreSQL µs/op | IdP µs/op | driver µs/op | SQL/op | broker RSS MiB (peak) |';
const rows = results.map(
  (r) =>
    `| ${r.phase} | ${r.method} | ${r.concurrency} | ${r.operations} | ${r.perSecond} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.cpuUsPerOp.broker} | ${r.cpuUsPerOp.postgres} | ${r.cpuUsPerOp.idp} | ${r.cpuUsPerOp.driver} | ${r.sqlPerOp} | ${r.brokerRssMiB} (${r.brokerPeakRssMiB}) |`,
);
const lines = [
  `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`,
  '',
  header,
  `|${'---|'.repeat(14)}`,
  ...rows,
];
if (calibration) {
  const c = calibration;
  const ratios = (Object.keys(REFERENCE) as (keyof Calibration)[]).map((key) => c[key] / REFERENCE[key]);
  const factor = round(ratios.reduce((a, b) => a + b, 0) / ratios.length);
  lines.push(
    '',
    "Machine calibration (CPU µs; the issue's reference machine in brackets):",
    `  bare Fastify keep-alive request ${c.fastifyRequestUs} [${REFERENCE.fastifyRequestUs}] · RS256 verify ${c.rs256VerifyUs} [${REFERENCE.rs256VerifyUs}] · RS256 sign ${c.rs256SignUs} [${REFERENCE.rs256SignUs}] · PostgreSQL INSERT+UPDATE client ${c.pgInsertUpdateUs} [${REFERENCE.pgInsertUpdateUs}]`,
    `  this machine is ${factor}× the reference on average (ratios ${ratios.map((r) => round(r)).join(', ')})`,
  );
}
const sideBySide = results
  .filter((r) => r.phase === 'reference')
  .flatMap((reference) => {
    const broker = results.find(
      (r) => r.phase === 'login' && r.method === reference.method && r.concurrency === reference.concurrency,
    );
    if (!broker) return [];
    const ours = broker.cpuUsPerOp.broker + broker.cpuUsPerOp.postgres;
    return [
      `| ${reference.method} | ${reference.concurrency} | ${broker.cpuUsPerOp.broker} + ${broker.cpuUsPerOp.postgres} = ${ours} | ${reference.cpuUsPerOp.reference} | **${round(ours / reference.cpuUsPerOp.reference)}×** | ${broker.perSecond} | ${reference.perSecond} |`,
    ];
  });
if (sideBySide.length) {
  lines.push(
    '',
    `Against the reference relying party (${referenceVersion ?? 'Apache'} + mod_auth_openidc, ` +
      `${args['reference-log'] === 'off' ? 'no access log' : 'with an access log, as the broker'}, same stub IdP, same driver, this run):`,
    '',
    '| method | conc. | broker + PostgreSQL µs per complete login | reference µs per login | ratio | broker logins/s | reference logins/s |',
    '|---|---|---|---|---|---|---|',
    ...sideBySide,
  );
}
if (soak.length) {
  const at = (n: number) => soak.find((s) => s.logins >= n)?.brokerRssMiB ?? 0;
  const growth = at(20_000) ? ((at(100_000) - at(20_000)) / at(20_000)) * 100 : 0;
  lines.push(
    '',
    `Soak: broker RSS ${at(20_000)} MiB after 20,000 logins, ${at(100_000)} MiB after 100,000 (${growth >= 0 ? '+' : ''}${round(growth)}%).`,
  );
}
const statements = results.find((r) => r.phase === 'login' && r.concurrency === 16) ?? results[0];
if (statements) {
  const steady = statements.sql.filter((s) => s.perOp >= 0.01);
  const rare = statements.sql.filter((s) => s.perOp < 0.01);
  lines.push(
    '',
    `SQL per login (${statements.method}, c=${statements.concurrency}):`,
    ...steady.map((s) => `  ${s.perOp} × ${s.query}`),
  );
  if (rare.length)
    lines.push(
      `  plus ${rare.length} statement(s) under 0.01 per login (configuration cache refills every 30 s, housekeeping)`,
    );
}
process.stdout.write(`${lines.join('\n')}\n`);
const out = resolve(args.out ?? 'bench-result.json');
if (webhookLatency)
  lines.push(
    '',
    `session.ended, from the logout token to the app's webhook endpoint, under logins at c=16: ` +
      `median ${webhookLatency.medianMs} ms, p99 ${webhookLatency.p99Ms} ms (${webhookLatency.samples} sessions)`,
  );
await writeFile(
  out,
  JSON.stringify(
    {
      machine,
      calibration,
      reference: REFERENCE,
      referenceAccessLog: args['reference-log'] !== 'off',
      results,
      soak,
      webhookLatency,
    },
    null,
    2,
  ),
);
log(`wrote ${out}`);
