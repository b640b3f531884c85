import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * RSA-2048 keys for the tests' IdPs and brokers, drawn from a pool the test run generates once
 * (scripts/test/run.ts writes them as PEM files into the directory TEST_KEY_POOL names): a run
 * asked for about 180 keys at about 0.15 s of CPU each; now it makes 16. Within one process each
 * call gets the next key of the pool, so a test that needs up to 16 different keys gets different
 * keys. A file run without the pool generates its keys.
 */

let next = 0;
let pool: KeyObject[] | undefined;

export async function testRsaKey(): Promise<KeyObject> {
  const dir = process.env.TEST_KEY_POOL;
  if (!dir) return (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })).privateKey;
  pool ??= readdirSync(dir)
    .filter((name) => name.endsWith('.pem'))
    .sort()
    .map((name) => createPrivateKey(readFileSync(join(dir, name))));
  return pool[next++ % pool.length]!;
}
