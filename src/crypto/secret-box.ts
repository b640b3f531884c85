import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { randomBytesPooled } from './random.js';

/**
 * AES-256-GCM with a key ring (SECRET_KEY is a comma-separated list): the first key encrypts,
 * every key decrypts, so an operator rotates by prepending a new key and re-encrypting later.
 *
 * Format: `v1.<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`; the key id is the first 8 hex
 * characters of SHA-256(key), so decryption tries the right key first without revealing it.
 * `purpose` is bound as additional authenticated data: a ciphertext made for one purpose
 * (say, one connection's client secret) does not open as another.
 */
export class SecretBox {
  readonly #keys: { id: string; key: Buffer }[];
  /** The first key: the one that seals. */
  readonly #current: { id: string; key: Buffer };

  constructor(keys: readonly Buffer[]) {
    this.#keys = keys.map((key) => {
      if (key.length !== 32) throw new Error('SecretBox keys must be 32 bytes');
      return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
    });
    const [current] = this.#keys;
    if (!current) throw new Error('SecretBox needs at least one key');
    this.#current = current;
  }

  seal(plaintext: string, purpose: string): string {
    const { id, key } = this.#current;
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${id}.${body.toString('base64url')}`;
  }

  /** Returns the plaintext, or undefined when no key opens it (tampered, foreign or wrong purpose). */
  open(sealed: string, purpose: string): string | undefined {
    const [version, id, encoded] = sealed.split('.');
    if (version !== 'v1' || id === undefined || encoded === undefined) return undefined;
    const body = Buffer.from(encoded, 'base64url');
    if (body.length < 12 + 16) return undefined;
    const candidates = [...this.#keys].sort((a, b) => Number(b.id === id) - Number(a.id === id));
    for (const { key } of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
        decipher.setAAD(Buffer.from(purpose));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        // wrong key or tampered: try the next key
      }
    }
    return undefined;
  }

  /** True when `sealed` was made with a key other than the current first one (needs re-encryption). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#current.id;
  }
}
