import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../src/config/local.js';

// `npm run bench` keeps working: its quick mode runs every phase end to end (stub IdP, the
// compiled broker, embedded PostgreSQL, both auth methods, redeem, two replicas) and reports.
// No timing is asserted: timings belong to the benchmark, not to tests.

const RUN = join(packageRoot(), 'dist/scripts/bench/run.js');
if (!existsSync(RUN)) throw new Error(`${RUN} is missing: run npm run build (npm test does)`);

t.test('npm run bench -- --quick completes every phase and writes its report', async (t) => {
  const out = join(await mkdtemp(join(tmpdir(), 'bench-test-')), 'result.json');
  const child = spawn(process.execPath, [RUN, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  t.equal(code, 0, stderr.slice(-2000));
  t.match(stdout, '| phase | method | conc. |', 'prints the table');
  t.match(stdout, /this machine is [\d.]+× the reference/, 'and the calibration');
  const report = JSON.parse(await readFile(out, 'utf8')) as {
    calibration: Record<string, number>;
    results: {
      phase: string;
      method: string;
      concurrency: number;
      operations: number;
      perSecond: number;
      sqlPerOp: number;
      cpuUsPerOp: Record<string, number>;
    }[];
  };
  t.same(
    report.results.map((r) => `${r.phase} ${r.method} ${r.concurrency}`),
    [
      'login client_secret_post 1',
      'login client_secret_post 16',
      'login private_key_jwt 1',
      'login private_key_jwt 16',
      'redeem client_secret_post 16',
      '2 replicas client_secret_post 16',
    ],
  );
  for (const result of report.results) {
    t.ok(
      result.operations > 0 && result.perSecond > 0,
      `${result.phase} ${result.method} c=${result.concurrency}: ${result.operations} operations`,
    );
    t.ok(result.cpuUsPerOp.broker! > 0, 'broker CPU measured');
  }
  for (const login of report.results.filter((r) => r.phase !== 'redeem'))
    t.ok(login.sqlPerOp <= 3, `at most three SQL statements per login (${login.sqlPerOp})`);
  t.ok(report.calibration.rs256VerifyUs! > 0 && report.calibration.fastifyRequestUs! > 0);
});
