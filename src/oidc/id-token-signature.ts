import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as jose from 'jose';
import type { Idp } from './idp.js';

/**
 * The ID token's RS256 signature (OpenID Connect Core §3.1.3.7 step 6), against the IdP's JWKS.
 *
 * jose owns the JWKS: fetching, caching, refetching for an unknown `kid` (key rotation) with a
 * cooldown, and choosing among candidate keys. The common case — a fresh JWKS holding exactly
 * one usable key for the token — is verified synchronously with node:crypto keys built once
 * per JWKS copy, instead of a WebCrypto job per login; anything else (an unknown kid, a JWKS due
 * for refresh, several candidates, an unusual header) goes through jose, which decides.
 *
 * Measured (2026-11-29, this project's 2-core VM, 5,000 RS256-2048 verifications each):
 * jose.compactVerify 78–111 µs, node:crypto verify 22–25 µs — 55–85 µs a login, 3.5–5% of
 * the broker's ~1,700 µs CPU per login there: at the 5% a shortcut must save to stay, so it
 * stays until `npm run bench` can tell the two apart.
 */
export async function verifyIdTokenSignature(idToken: string, idp: Pick<Idp, 'keys' | 'onStaleKeys'>): Promise<void> {
  if (verifyWithCachedKey(idToken, idp.keys)) return;
  try {
    await verifyWithJose(idToken, idp);
  } finally {
    // jose may have (re)fetched the JWKS: key the fast path on what it holds now.
    cacheUsableKeys(idp.keys);
  }
}

type RemoteKeys = Idp['keys'];

interface UsableKey {
  kid: string | undefined;
  key: KeyObject;
}

/** Per remote JWKS: its RS256-usable keys as node:crypto KeyObjects. */
const usableKeys = new WeakMap<RemoteKeys, UsableKey[]>();

/** The keys jose itself would consider for RS256 (jose's isUsableJWK). */
function cacheUsableKeys(remote: RemoteKeys): void {
  const jwks = typeof remote.jwks === 'function' ? remote.jwks() : undefined;
  if (!jwks) return;
  const usable: UsableKey[] = [];
  for (const jwk of jwks.keys) {
    if (
      jwk.kty !== 'RSA' ||
      (jwk.alg !== undefined && jwk.alg !== 'RS256') ||
      (jwk.use !== undefined && jwk.use !== 'sig')
    )
      continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    // Without a modulus and exponent it is no key: jose reports it if a token ever selects it.
    if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') continue;
    try {
      usable.push({ kid: jwk.kid, key: createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' }) });
    } catch {
      // A malformed key: jose reports it if a token ever selects it.
    }
  }
  usableKeys.set(remote, usable);
}

/** True when verified here; false when jose must decide. Throws when the signature is wrong. */
function verifyWithCachedKey(idToken: string, remote: RemoteKeys): boolean {
  if (remote.fresh !== true) return false;
  const usable = usableKeys.get(remote);
  if (!usable) return false;
  const headerEnd = idToken.indexOf('.');
  const payloadEnd = idToken.indexOf('.', headerEnd + 1);
  if (headerEnd < 1 || payloadEnd < 0 || idToken.includes('.', payloadEnd + 1)) return false;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(idToken.slice(0, headerEnd), 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return false;
  }
  if (header === null || typeof header !== 'object' || header.alg !== 'RS256' || 'crit' in header || 'b64' in header)
    return false;
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') return false;
  const [candidate, ...others] = usable.filter((k) => kid === undefined || k.kid === kid);
  if (!candidate || others.length > 0) return false;
  const signature = Buffer.from(idToken.slice(payloadEnd + 1), 'base64url');
  if (!verify('sha256', Buffer.from(idToken.slice(0, payloadEnd)), candidate.key, signature)) {
    throw new jose.errors.JWSSignatureVerificationFailed();
  }
  return true;
}

/**
 * RS256 only: alg "none", HS256 (whatever its key) and every other algorithm are refused.
 * A token without `kid` while the JWKS holds several RSA keys is checked against each of them
 * (one of the two behaviours the OpenID RP certification accepts for that case).
 */
async function verifyWithJose(idToken: string, idp: Pick<Idp, 'keys' | 'onStaleKeys'>): Promise<void> {
  const options = { algorithms: ['RS256'] };
  try {
    await jose.compactVerify(idToken, idp.keys, options);
  } catch (error) {
    // The JWKS was due for a refresh and the IdP did not answer: its last copy still decides.
    const cached = idp.keys.jwks();
    if (cached && isFetchFailure(error)) {
      idp.onStaleKeys?.((error as Error).message);
      return verifyWithJose(idToken, { keys: jose.createLocalJWKSet(cached) as unknown as RemoteKeys });
    }
    if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error as unknown as AsyncIterable<jose.CryptoKey>) {
      try {
        await jose.compactVerify(idToken, candidate, options);
        return;
      } catch (inner) {
        if (!(inner instanceof jose.errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new jose.errors.JWSSignatureVerificationFailed();
  }
}

/** A failure to fetch the keys, as opposed to a token the keys reject. */
function isFetchFailure(error: unknown): boolean {
  return (
    error instanceof jose.errors.JWKSTimeout ||
    error instanceof jose.errors.JWKSInvalid ||
    (error instanceof jose.errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') ||
    !(error instanceof jose.errors.JOSEError)
  );
}
