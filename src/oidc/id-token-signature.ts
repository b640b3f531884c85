import * as jose from 'jose';
import { BrokerError, isBrokerError } from '../errors/broker-error.js';
import { candidatesFor, prepareFastPath, verifyWithCachedKey } from './id-token-fast-path.js';
import type { Idp, IdpKeys, KeyCopy } from './idp.js';
import { describeUpstream } from './translate-error.js';

type Signer = Pick<Idp, 'keys' | 'onStaleKeys'>;

/** RS256 only: alg "none", HS256 (whatever its key) and every other algorithm are refused. */
const RS256_ONLY = { algorithms: ['RS256'] };

/** The most keys a token may leave to be tried: no kid, or one several keys share. */
const MAX_CANDIDATES = 10;

/**
 * The ID token's RS256 signature (OpenID Connect Core §3.1.3.7 step 6), against the IdP's JWKS.
 *
 * Two stages, kept apart so that one can never be taken for the other:
 * - the keys: a copy fetched by jose's remote set when the last one is due (and shared by
 *   the logins waiting for it). Only a failure here is a failure to fetch the keys; while a
 *   previous copy exists it decides instead, once, with a warning in the log.
 * - the token against that copy: the common case through a measured shortcut
 *   (id-token-fast-path.ts), anything else through jose, which decides. Every failure here —
 *   a wrong signature, a key jose refuses (RSA under 2048 bits, malformed, of another type) —
 *   is an ID token that fails verification: `invalid_id_token`.
 *
 * A token naming a `kid` the copy does not hold (key rotation at the IdP) refetches once,
 * unless this login has just fetched or the last fetch is within the cooldown.
 */
export async function verifyIdTokenSignature(idToken: string, idp: Signer): Promise<void> {
  const { copy, fetched } = await currentCopy(idp);
  try {
    return await verifyAgainst(idToken, copy);
  } catch (error) {
    if (!(error instanceof jose.errors.JWKSNoMatchingKey) || fetched || idp.keys.remote.coolingDown)
      throw refusal(error);
  }
  let rotated: KeyCopy;
  try {
    rotated = await fetchCopy(idp.keys);
  } catch (error) {
    // The IdP may have rotated its keys, but they cannot be fetched: the token names no key we hold.
    idp.onStaleKeys?.(describeUpstream(error));
    throw refusal(new jose.errors.JWKSNoMatchingKey());
  }
  try {
    return await verifyAgainst(idToken, rotated);
  } catch (error) {
    throw refusal(error);
  }
}

/**
 * The copy to verify with, fetching it when there is none or it is due. A fetch that fails
 * while a copy exists leaves that copy to decide; without one, the failure is the login's.
 */
async function currentCopy(idp: Signer): Promise<{ copy: KeyCopy; fetched: boolean }> {
  const keys = idp.keys;
  if (keys.copy && keys.remote.fresh) return { copy: keys.copy, fetched: false };
  try {
    return { copy: await fetchCopy(keys), fetched: true };
  } catch (error) {
    if (!keys.copy) throw error;
    idp.onStaleKeys?.(describeUpstream(error));
    return { copy: keys.copy, fetched: true };
  }
}

/**
 * One fetch of the JWKS (jose: timeout, no redirects, a JWK Set or a JWKSInvalid), prepared
 * once for every login waiting on it. What rejects here is the fetch failing, and nothing else.
 */
function fetchCopy(keys: IdpKeys): Promise<KeyCopy> {
  keys.fetching ??= keys.remote
    .reload()
    .then(() => {
      const jwks = keys.remote.jwks();
      if (!jwks) throw new jose.errors.JWKSInvalid('no JSON Web Key Set after a fetch');
      keys.copy = { jose: jose.createLocalJWKSet(jwks), fast: prepareFastPath(jwks) };
      return keys.copy;
    })
    .finally(() => {
      keys.fetching = undefined;
    });
  return keys.fetching;
}

async function verifyAgainst(idToken: string, copy: KeyCopy): Promise<void> {
  if (verifyWithCachedKey(idToken, copy.fast)) return;
  await verifyWithJose(idToken, copy);
}

/**
 * jose over a fetched copy: no network here. A token without `kid` while the JWKS holds
 * several usable keys is checked against each (one of the two behaviours the OpenID RP
 * certification accepts for that case); a candidate that cannot verify — jose could not
 * import it, or refuses it (RSA under 2048 bits) — is passed over, so the order of the
 * keys never matters, and the token passes only if a sound key verifies it.
 *
 * At most MAX_CANDIDATES of them, so that what one login costs does not grow with what an
 * IdP publishes: jose imports and tries the candidates one after the other, and those it
 * refuses without a WebCrypto job (too short, malformed) never yield to the event loop.
 */
async function verifyWithJose(idToken: string, copy: KeyCopy): Promise<void> {
  try {
    await jose.compactVerify(idToken, copy.jose, RS256_ONLY);
  } catch (error) {
    if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) throw error;
    const count = candidatesFor(copy.fast, jose.decodeProtectedHeader(idToken).kid).length;
    if (count > MAX_CANDIDATES)
      throw new BrokerError('invalid_id_token', {
        logMessage: `ID token signature: ${count} keys match the token, more than the ${MAX_CANDIDATES} tried`,
      });
    let reason: unknown = new jose.errors.JWSSignatureVerificationFailed();
    for await (const candidate of error as unknown as AsyncIterable<jose.CryptoKey>) {
      try {
        await jose.compactVerify(idToken, candidate, RS256_ONLY);
        return;
      } catch (refused) {
        reason = refused;
      }
    }
    throw reason;
  }
}

/** Whatever the checks of the token against its keys threw: `invalid_id_token`, the reason logged. */
function refusal(error: unknown): BrokerError {
  if (isBrokerError(error)) return error;
  return new BrokerError('invalid_id_token', {
    cause: error,
    logMessage: `ID token signature: ${describeUpstream(error)}`,
  });
}
