import { X509Certificate, createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KeysError, loadBrokerKeys } from '../../src/config/broker-keys.js';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'broker-keys-unit-'));

t.test('keys:generate writes a key that loads; kid is the file stem; the first by name is active', async (t) => {
  const dir = await tempDir();
  await generateBrokerKey(dir, { kid: 'b-key' });
  await generateBrokerKey(dir, { kid: 'a-key' });
  const keys = await loadBrokerKeys(dir);
  t.same([...keys.keys.keys()], ['a-key', 'b-key']);
  t.equal(keys.activeKid, 'a-key');
  t.equal((await loadBrokerKeys(dir, 'b-key')).activeKid, 'b-key', 'SIGNING_KEY_ID chooses');
  await t.rejects(loadBrokerKeys(dir, 'missing'), KeysError);
  await t.rejects(generateBrokerKey(dir, { kid: 'a-key' }), { code: 'EEXIST' }, 'never overwrites a key');
});

t.test('JWK files load too; small and non-RSA keys are refused', async (t) => {
  const dir = await tempDir();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'jwk-key.json'), JSON.stringify(privateKey.export({ format: 'jwk' })));
  await writeFile(join(dir, 'README.md'), 'ignored');
  t.same([...(await loadBrokerKeys(dir)).keys.keys()], ['jwk-key']);

  const small = await tempDir();
  await writeFile(
    join(small, 'small.pem'),
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  await t.rejects(loadBrokerKeys(small), /at least 2048/);
  const ec = await tempDir();
  await writeFile(
    join(ec, 'ec.pem'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  await t.rejects(loadBrokerKeys(ec), /not an RSA/);
});

t.test('an empty or missing folder means no keys, not an error', async (t) => {
  const keys = await loadBrokerKeys(join(await tempDir(), 'absent'));
  t.equal(keys.keys.size, 0);
  t.equal(keys.activeKid, undefined);
  t.same(keys.jwks(), { keys: [] });
});

t.test(
  'keys:generate writes a self-signed certificate beside the key; x5t and x5t#S256 are the SHA-1 and SHA-256 of its DER',
  async (t) => {
    const dir = await tempDir();
    const generated = await generateBrokerKey(dir, {
      kid: 'with-cert',
      commonName: 'SSO broker test',
      certificateDays: 365,
    });
    t.equal(generated.certificatePath, join(dir, 'with-cert.crt'));
    const keys = await loadBrokerKeys(dir);
    const key = keys.keys.get('with-cert')!;
    const cert = new X509Certificate(await readFile(join(dir, 'with-cert.crt')));
    t.ok(
      cert.publicKey.equals(createPublicKey(await readFile(join(dir, 'with-cert.pem')))),
      'the certificate is of the key',
    );
    t.ok(cert.verify(cert.publicKey), 'self-signed: its own key verifies it');
    t.equal(cert.subject, 'CN=SSO broker test');
    t.equal(cert.issuer, cert.subject);
    t.equal(cert.ca, false, 'not a CA');
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    t.ok(days > 364 && days <= 365, `valid for the days asked (${days.toFixed(2)})`);
    t.equal(key.certificateNotAfter, new Date(cert.validTo).toISOString());
    t.equal(key.x5t, createHash('sha1').update(cert.raw).digest('base64url'));
    t.equal(key.x5tS256, createHash('sha256').update(cert.raw).digest('base64url'));
    t.equal(keys.jwks().keys[0]!['x5t#S256'], key.x5tS256);
    t.same(keys.jwks().keys[0]!.x5c, [cert.raw.toString('base64')]);

    const second = await generateBrokerKey(dir, { kid: 'another' });
    t.not(
      new X509Certificate(await readFile(second.certificatePath!)).serialNumber,
      cert.serialNumber,
      'a fresh serial number',
    );
    t.equal(
      (await generateBrokerKey(dir, { kid: 'no-cert', certificateDays: 0 })).certificatePath,
      undefined,
      '--days 0: no certificate',
    );
    t.equal((await loadBrokerKeys(dir)).keys.get('no-cert')!.x5t, undefined);
  },
);

t.test('a certificate of another key, or not a certificate at all, is refused at start-up', async (t) => {
  const dir = await tempDir();
  const { certificatePath } = await generateBrokerKey(dir, { kid: 'one' });
  const mismatch = await tempDir();
  await generateBrokerKey(mismatch, { kid: 'other', certificateDays: 0 });
  await writeFile(join(mismatch, 'other.crt'), await readFile(certificatePath!));
  await t.rejects(loadBrokerKeys(mismatch), /does not match/);
  await writeFile(join(mismatch, 'other.crt'), 'not a certificate');
  await t.rejects(loadBrokerKeys(mismatch), /other\.crt: not an X\.509 certificate/);
});
