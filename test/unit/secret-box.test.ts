import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SecretBox } from '../../src/crypto/secret-box.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

t.test('seals and opens for the same purpose only', async (t) => {
  const box = new SecretBox([k1]);
  const sealed = box.seal('hello', 'purpose-a');
  t.notOk(sealed.includes('hello'));
  t.equal(box.open(sealed, 'purpose-a'), 'hello');
  t.equal(box.open(sealed, 'purpose-b'), undefined, 'bound to its purpose');
  t.not(box.seal('hello', 'purpose-a'), sealed, 'a fresh IV every time');
});

t.test('tampering is detected', async (t) => {
  const box = new SecretBox([k1]);
  const sealed = box.seal('hello', 'p');
  const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
  body[body.length - 20]! ^= 1;
  const tampered = `v1.${sealed.split('.')[1]}.${body.toString('base64url')}`;
  t.equal(box.open(tampered, 'p'), undefined);
  t.equal(box.open('garbage', 'p'), undefined);
  t.equal(box.open('v1.x.', 'p'), undefined);
});

t.test('rotation: the first key encrypts, every key decrypts', async (t) => {
  const old = new SecretBox([k1]);
  const sealedOld = old.seal('secret', 'p');
  const rotated = new SecretBox([k2, k1]);
  t.equal(rotated.open(sealedOld, 'p'), 'secret', 'old ciphertexts still open');
  t.ok(rotated.isStale(sealedOld), 'and are marked for re-encryption');
  const sealedNew = rotated.seal('secret', 'p');
  t.notOk(rotated.isStale(sealedNew));
  t.equal(old.open(sealedNew, 'p'), undefined, 'the old ring cannot open the new key’s ciphertext');
});
