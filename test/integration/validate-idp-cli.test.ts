import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { packageRoot } from '../../src/config/local.js';

// npm run validate-idp: the same report as the admin endpoint, for an IdP engineer's terminal.

const CLI = join(packageRoot(), 'dist/scripts/validate-idp.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);

function run(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

const rogue = await startRogueIdp(t, {
  good: {},
  'wrong-issuer': { discovery: (doc) => ({ ...doc, issuer: 'https://someone.else' }) },
});

t.test('a good IdP: every check ok, exit 0', async (t) => {
  const result = await run(['--issuer', rogue.issuer('good')]);
  t.equal(result.code, 0);
  t.equal(result.stdout.split('\n').filter((l) => l.startsWith('ok  ')).length, 8, 'eight checks, one line each');
  t.match(result.stdout, /all checks passed/);
});

t.test('a lying discovery document: the failing check says what differed, exit 1', async (t) => {
  const result = await run(['--issuer', rogue.issuer('wrong-issuer'), '--auth-method', 'private_key_jwt']);
  t.equal(result.code, 1);
  t.match(result.stdout, /^FAIL {2}issuer_match +discovery says issuer "https:\/\/someone.else"/m);
});

t.test('wrong arguments: usage, exit 2', async (t) => {
  t.equal((await run([])).code, 2);
  t.equal((await run(['--issuer', 'x', '--auth-method', 'client_secret_basic'])).code, 2);
  t.equal((await run(['--bogus'])).code, 2);
});
