import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { freePort, packageRoot } from '../../src/config/local.js';
import { testPool } from '../helpers/pg.js';
import { waitFor, waitUntilReady } from '../helpers/wait.js';

// The broker as an operator runs it: src/main.ts in its own process.

const ROOT = packageRoot();
const MAIN = resolve(ROOT, 'dist/src/main.js');

// Operators run the compiled build (`npm test` builds it first); tsx's signal relay would
// also kill a SIGTERMed child before its shutdown finished.
if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);

function runMain(env: Record<string, string>, cwd?: string) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    ...(cwd && { cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

t.test('invalid configuration stops start-up with one line per problem and no stack trace', async (t) => {
  const run = runMain({ PORT: 'x', ADMIN_TOKEN: 'short', DATABASE_URL: 'postgres://db/x', PUBLIC_URL: 'not a url' });
  t.equal(await run.exited, 1);
  const { stderr } = run.output();
  for (const name of ['PORT', 'ADMIN_TOKEN', 'SECRET_KEY', 'PUBLIC_URL'])
    t.match(stderr, new RegExp(`^  ${name}: `, 'm'), name);
  t.notMatch(stderr, /\s+at .+:\d+:\d+/, 'no stack trace');
});

t.test(
  'starts on DATABASE_URL, applies migrations, warns of expiring key certificates, and on SIGTERM finishes in-flight requests before exiting',
  async (t) => {
    const databaseUrl = await testDatabaseUrl(t);
    // Start from an empty schema so the process itself must migrate.
    const pool = testPool({ connectionString: databaseUrl, max: 1 });
    await pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    const port = await freePort();
    const adminToken = randomBytes(24).toString('base64url');
    // Two keys: one whose certificate expires in 10 days (logged at start-up), one for 2 years.
    const keysDir = await mkdtemp(join(tmpdir(), 'broker-keys-'));
    await generateBrokerKey(keysDir, { kid: 'expiring', certificateDays: 10 });
    await generateBrokerKey(keysDir, { kid: 'fresh' });
    const run = runMain({
      DATABASE_URL: databaseUrl,
      SECRET_KEY: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN: adminToken,
      PORT: String(port),
      HOST: '127.0.0.1',
      KEYS_DIR: keysDir,
    });
    t.teardown(() => run.child.kill('SIGKILL'));
    const base = `http://127.0.0.1:${port}`;
    // It migrates an empty schema first: ready when /readyz says so (30 s at most on a busy CI).
    const ready = await waitUntilReady(base, 30_000);
    t.ok(ready, 'ready');
    if (!ready) return t.fail(run.output().stderr + run.output().stdout);
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
    );
    await pool.end();
    t.ok(rows[0].n >= 1, 'migrations applied at start');

    // A request in flight: headers sent, body still coming when SIGTERM arrives.
    const body = JSON.stringify({ slug: 'slow-org', name: 'Slow' });
    const inFlight = new Promise<number>((done, fail) => {
      const req = request(`${base}/admin/tenants`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${adminToken}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      req.on('response', (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', fail);
      req.write(body.slice(0, 5));
      setTimeout(() => {
        run.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(5)), 300);
      }, 200);
    });
    const status = await inFlight.catch((error: Error) => error.message);
    t.equal(status, 201, 'the in-flight request completed');
    if (status !== 201) t.comment(run.output().stdout + run.output().stderr);
    t.equal(await run.exited, 0, 'exited cleanly');
    t.match(run.output().stdout, /"msg":"stopped"/, 'buffered log lines are flushed before exit');
    const expiryWarnings = run
      .output()
      .stdout.split('\n')
      .filter((line) => line.includes('certificate of a broker key expires soon'));
    t.equal(expiryWarnings.length, 1, 'one certificate expiry warning');
    t.match(expiryWarnings[0], /"level":40,.*"kid":"expiring"/, 'for the key whose certificate expires within 30 days');
  },
);

t.test(
  'live config rule across two broker processes on one database: an admin change through A applies to the next login on B',
  async (t) => {
    const databaseUrl = await testDatabaseUrl(t);
    const secretKey = randomBytes(32).toString('base64url');
    const adminToken = randomBytes(24).toString('base64url');
    const start = async () => {
      const port = await freePort();
      const run = runMain({
        DATABASE_URL: databaseUrl,
        SECRET_KEY: secretKey,
        ADMIN_TOKEN: adminToken,
        PORT: String(port),
        HOST: '127.0.0.1',
        KEYS_DIR: await mkdtemp(join(tmpdir(), 'broker-keys-')),
        LOG_LEVEL: 'warn',
      });
      t.teardown(() => run.child.kill('SIGKILL'));
      const base = `http://127.0.0.1:${port}`;
      // Two processes migrate one fresh database at once: ready when /readyz says so, and if
      // not within the bound, fail here with what the process said (not later, as a refused
      // connection).
      const ready = await waitUntilReady(base, 30_000);
      if (!ready) {
        const { stdout, stderr } = run.output();
        throw new Error(`broker on ${base} not ready in 30 s; exit ${run.child.exitCode}:\n${stdout}\n${stderr}`);
      }
      return base;
    };
    const [a, b] = await Promise.all([start(), start()]);
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${a}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    await admin('POST', '/admin/tenants', { slug: 'two-procs', name: 'Two processes' });
    // An IdP that cannot be reached: a login with a registered return URL comes back with idp_error
    // (302), an unregistered one is a 400 page — enough to see which configuration B uses.
    await admin('POST', '/admin/tenants/two-procs/connections', {
      issuer: 'http://127.0.0.1:9',
      clientId: 'c',
      clientSecret: 's',
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    const app = (
      await admin('POST', '/admin/apps', {
        name: 'Two',
        returnUrls: ['https://app.example/one', 'https://app.example/two'],
      })
    ).body;
    const loginOnB = (returnTo: string) =>
      fetch(`${b}/api/sso/login?${new URLSearchParams({ app: app.id, return_to: returnTo, tenant: 'two-procs' })}`, {
        redirect: 'manual',
      }).then((r) => r.status);

    t.equal(await loginOnB('https://app.example/two'), 302, 'B accepts the registered URL (and caches the app)');
    t.equal((await admin('PATCH', `/admin/apps/${app.id}`, { returnUrls: ['https://app.example/one'] })).status, 200);
    let status = 0;
    for (let i = 0; i < 30 && status !== 400; i++) {
      status = await loginOnB('https://app.example/two');
      if (status !== 400) await new Promise((done) => setTimeout(done, 100));
    }
    t.equal(status, 400, 'B refuses the URL A just removed, without a restart');
    t.equal(await loginOnB('https://app.example/one'), 302, 'and still accepts the remaining one');
  },
);

t.test(
  'on the embedded database without ADMIN_TOKEN, one is generated under ./.data and the log prints a console sign-in link that works once, for 15 minutes; without HOST it listens on 127.0.0.1 only, and says so',
  async (t) => {
    const cwd = await mkdtemp(join(tmpdir(), 'broker-embedded-'));
    await chmod(cwd, 0o755); // as root, PostgreSQL runs as its own user and must reach ./.data
    const port = await freePort();
    // No HOST: the development broker with its generated admin token is reachable from this machine only.
    const run = runMain({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }, cwd);
    t.teardown(() => void run.child.kill('SIGTERM'));
    let link: string | undefined;
    const deadline = Date.now() + 30_000;
    while (link === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      link = /"url":"([^"]+\/console\/sign-in\?code=[^"]+)"/.exec(run.output().stdout)?.[1];
    }
    t.ok(link, 'the log prints the sign-in link');
    t.match(run.output().stdout, 'development only');
    t.match(run.output().stdout, 'works once, within 15 minutes', 'and says for how long it works');
    t.match(
      run.output().stdout,
      /"host":"127\.0\.0\.1".*listening on 127\.0\.0\.1 only/,
      'the log says where it listens',
    );
    const expiresAt = Date.parse(/"expiresAt":"([^"]+)"/.exec(run.output().stdout)?.[1] ?? '');
    t.ok(expiresAt > Date.now() && expiresAt <= Date.now() + 15 * 60_000, `it expires within 15 minutes`);
    const token = (await readFile(join(cwd, '.data/admin-token'), 'utf8')).trim();
    t.ok(token.length >= 40, 'the admin token is kept under ./.data');
    t.notOk(run.output().stdout.includes(token), 'the admin token itself is never logged');
    const first = await fetch(link!, { redirect: 'manual' });
    t.equal(first.status, 303);
    t.equal(first.headers.get('location'), '/console');
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const console = await fetch(`http://127.0.0.1:${port}/console`, { headers: { cookie }, redirect: 'manual' });
    t.equal(console.status, 200, 'signed in with one click');
    const again = await fetch(link!, { redirect: 'manual' });
    t.equal(again.status, 401, 'the link works once: the second time is the sign-in page, saying so');
    const admin = await fetch(`http://127.0.0.1:${port}/admin/tenants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    t.equal(admin.status, 200, 'and the generated token is the admin token');
    run.child.kill('SIGTERM');
    t.equal(await run.exited, 0);

    // HOST=127.0.0.1 set by hand: the same address, but not the default, and the log does not say it is.
    const chosen = runMain({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, HOST: '127.0.0.1' }, cwd);
    t.teardown(() => void chosen.child.kill('SIGTERM'));
    const printed = () => /console\/sign-in\?code=/.test(chosen.output().stdout);
    t.ok(await waitFor(printed, 30_000), 'started again, with HOST set');
    t.notMatch(chosen.output().stdout, /default/, 'no word of a default it did not use');
    chosen.child.kill('SIGTERM');
    t.equal(await chosen.exited, 0);
  },
);
