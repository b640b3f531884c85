import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from './random.js';

/** A random token from the CSPRNG, base64url; 32 bytes = 256 bits unless told otherwise. */
export function randomToken(bytes = 32): string {
  return randomBytesPooled(bytes).toString('base64url');
}

/** `count` random tokens of 256 bits each, base64url, from one call to the CSPRNG. */
export function randomTokens(count: number): string[] {
  const bytes = randomBytesPooled(32 * count);
  return Array.from({ length: count }, (_, i) => bytes.subarray(32 * i, 32 * (i + 1)).toString('base64url'));
}

/** SHA-256 as hex: how tickets and app secrets are stored (both are 256-bit random values). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of two strings (compares their SHA-256 so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
