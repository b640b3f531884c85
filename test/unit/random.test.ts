import t from 'tap';
import { randomBytesPooled } from '../../src/crypto/random.js';
import { randomTokens } from '../../src/crypto/tokens.js';

t.test('pooled random bytes: the sizes asked for, never handed out twice, across many refills', async (t) => {
  const seen = new Set<string>();
  let wrongSize = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = randomBytesPooled(12);
    if (bytes.length !== 12) wrongSize++;
    seen.add(bytes.toString('hex'));
  }
  t.equal(wrongSize, 0, 'every buffer has the size asked for');
  t.equal(seen.size, 20_000, 'no repeats over ~30 pool refills');
  const big = randomBytesPooled(4096);
  t.equal(big.length, 4096, 'large requests bypass the pool');
});

t.test('a handed-out buffer is a copy: later refills do not change it', async (t) => {
  const first = randomBytesPooled(32);
  const copy = Buffer.from(first);
  for (let i = 0; i < 1000; i++) randomBytesPooled(32);
  t.same(first, copy);
});

t.test('randomTokens: distinct 256-bit base64url tokens', async (t) => {
  const tokens = randomTokens(3);
  t.equal(new Set(tokens).size, 3);
  for (const token of tokens) t.match(token, /^[A-Za-z0-9_-]{43}$/);
});
