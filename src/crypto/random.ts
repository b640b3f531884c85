import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, fetched 8 KiB at a time: one getrandom call for dozens of
 * logins instead of one per token, nonce or IV (Node's randomUUID batches the same way).
 * Every byte is handed out once, as a copy.
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let offset = POOL_SIZE;

export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_SIZE / 8) return randomBytes(size);
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
