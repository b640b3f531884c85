import * as jose from 'jose';
import { cacheUsableKeys, verifyWithCachedKey } from './id-token-fast-path.js';
import type { Idp } from './idp.js';

type RemoteKeys = Idp['keys'];

/**
 * The ID token's RS256 signature (OpenID Connect Core §3.1.3.7 step 6), against the IdP's JWKS.
 *
 * jose owns the JWKS: fetching, caching, refetching for an unknown `kid` (key rotation) with a
 * cooldown, and choosing among candidate keys. The common case goes through a measured
 * shortcut (id-token-fast-path.ts); anything else goes through jose, which decides.
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
