import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KeysError, generateBrokerKey, loadBrokerKeys } from '../../src/config/broker-keys.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'broker-keys-unit-'));

t.test('keys:generate writes a key that loads; kid is the file stem; the first by name is active', async (t) => {
  const dir = await tempDir();
  await generateBrokerKey(dir, 'b-key');
  await generateBrokerKey(dir, 'a-key');
  const keys = await loadBrokerKeys(dir);
  t.same([...keys.keys.keys()], ['a-key', 'b-key']);
  t.equal(keys.activeKid, 'a-key');
  t.equal((await loadBrokerKeys(dir, 'b-key')).activeKid, 'b-key', 'SIGNING_KEY_ID chooses');
  await t.rejects(loadBrokerKeys(dir, 'missing'), KeysError);
  await t.rejects(generateBrokerKey(dir, 'a-key'), { code: 'EEXIST' }, 'never overwrites a key');
});

t.test('JWK files load too; small and non-RSA keys are refused', async (t) => {
  const dir = await tempDir();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'jwk-key.json'), JSON.stringify(privateKey.export({ format: 'jwk' })));
  await writeFile(join(dir, 'README.md'), 'ignored');
  t.same([...(await loadBrokerKeys(dir)).keys.keys()], ['jwk-key']);

  const small = await tempDir();
  await writeFile(join(small, 'small.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await t.rejects(loadBrokerKeys(small), /at least 2048/);
  const ec = await tempDir();
  await writeFile(join(ec, 'ec.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await t.rejects(loadBrokerKeys(ec), /not an RSA/);
});

t.test('an empty or missing folder means no keys, not an error', async (t) => {
  const keys = await loadBrokerKeys(join(await tempDir(), 'absent'));
  t.equal(keys.keys.size, 0);
  t.equal(keys.activeKid, undefined);
  t.same(keys.jwks(), { keys: [] });
});

// Node cannot issue certificates; Debian's openssl makes a self-signed one for the test.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

t.test('a certificate beside a key adds x5t and x5t#S256 (SHA-1 and SHA-256 of its DER)', { skip: !hasOpenssl && 'openssl is not installed' }, async (t) => {
  const dir = await tempDir();
  await generateBrokerKey(dir, 'with-cert');
  execFileSync('openssl', ['req', '-new', '-x509', '-key', join(dir, 'with-cert.pem'), '-subj', '/CN=broker', '-days', '1', '-out', join(dir, 'with-cert.crt')], { stdio: 'ignore' });
  const keys = await loadBrokerKeys(dir);
  const key = keys.keys.get('with-cert')!;
  const { X509Certificate } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const der = new X509Certificate(await readFile(join(dir, 'with-cert.crt'))).raw;
  t.equal(key.x5t, createHash('sha1').update(der).digest('base64url'));
  t.equal(key.x5tS256, createHash('sha256').update(der).digest('base64url'));
  t.equal(keys.jwks().keys[0]!['x5t#S256'], key.x5tS256);

  const mismatch = await tempDir();
  await generateBrokerKey(mismatch, 'other');
  await writeFile(join(mismatch, 'other.crt'), await readFile(join(dir, 'with-cert.crt')));
  await t.rejects(loadBrokerKeys(mismatch), /does not match/);
});
