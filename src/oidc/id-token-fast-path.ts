import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as jose from 'jose';

/*
 * A shortcut, kept because it is measured: the common case of an ID token's signature — a
 * JWKS holding exactly one usable key for the token — verified synchronously with a
 * node:crypto key built once per fetched copy, instead of a WebCrypto job per login through
 * jose. It decides only what jose would decide the same way, and answers "undecided" (false)
 * for everything else, which jose then decides (id-token-signature.ts): an unknown kid,
 * several candidates, a header other than a JSON object with alg RS256 (or one with crit or
 * b64), any key but a plain public RSA key of 2048 to 4096 bits with e = 65537, anything not
 * strictly base64url. The parity test (test/unit/id-token-fast-path-parity.test.ts) plays
 * forged and edge tokens through both.
 *
 * Measured (2026-11-30, 2-core VM): 5,000 RS256-2048 verifications, jose.compactVerify
 * 78–111 µs, node:crypto verify 22–25 µs. `npm run bench -- --concurrency 16` in four rotations
 * against the same build without this file: broker CPU per login +10.6% without it
 * (client_secret_post, median of the paired ratios; the runs range 0.95–1.29) and +3.3%
 * (private_key_jwt, whose assertion signing dominates). Over the 5% a shortcut must save.
 * Measured again once it decided only as jose does (2026-12-07, same VM, busy: load average
 * 10): 5,000 each, jose.compactVerify 108 µs, this shortcut 36 µs. And in the bench,
 * `node dist/scripts/bench/run.js --logins-only --method client_secret_post --concurrency 16`
 * alternating with the same build with the shortcut off (four runs with it, three without; the
 * machine's speed drifted, so broker CPU is taken relative to the stub IdP's and the driver's,
 * whose work is the same in both): broker CPU per login 5.3% (per IdP µs) and 6.7% (per driver
 * µs) higher without it. Still over the 5% a shortcut must save, by little.
 */

/** A JWKS member jose would consider for an RS256 token, whatever the token's kid. */
interface Candidate {
  kid: unknown;
  jwk: Readonly<Record<string, unknown>>;
  /** Built on first use: the node:crypto key, or null when the shortcut leaves this key to jose. */
  key?: KeyObject | null;
}

/** The shortcut's view of one fetched JWKS, kept with that copy on the IdP's entry (idp.ts). */
export interface FastPathKeys {
  candidates: Candidate[];
}

/** The JWKS members jose's local key set would consider for RS256 (its isUsableJWK, less the kid). */
export function prepareFastPath(jwks: jose.JSONWebKeySet): FastPathKeys {
  const candidates: Candidate[] = [];
  for (const member of jwks.keys as unknown[]) {
    // jose reads each member's own properties only.
    const jwk = { __proto__: null, ...(member as object) } as Record<string, unknown>;
    const { kty, key_ops: keyOps, ext, alg, use } = jwk;
    if (kty !== 'RSA' || (alg !== undefined && alg !== 'RS256') || (use !== undefined && use !== 'sig')) continue;
    if (ext !== undefined && typeof ext !== 'boolean') continue;
    if (keyOps !== undefined && !isVerifyOps(keyOps)) continue;
    candidates.push({ kid: jwk.kid, jwk });
  }
  return { candidates };
}

/** The keys jose would try for a token naming `kid` (a string, or undefined: every usable key). */
export function candidatesFor(keys: FastPathKeys, kid: unknown): Candidate[] {
  return keys.candidates.filter((k) => kid === undefined || (typeof kid === 'string' && k.kid === kid));
}

/** jose's rule for key_ops: an array of unique strings including "verify". */
function isVerifyOps(keyOps: unknown): boolean {
  return (
    Array.isArray(keyOps) &&
    keyOps.every((op, index) => typeof op === 'string' && keyOps.indexOf(op) === index) &&
    keyOps.includes('verify')
  );
}

/** What base64url means to jose: its alphabet, no padding, no whitespace, no impossible length. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const isBase64url = (part: string) => BASE64URL.test(part) && part.length % 4 !== 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Header members whose meaning the shortcut does not take on: jose decides tokens carrying them. */
const LEFT_TO_JOSE = ['crit', 'b64'];

/** True when verified here; false when jose must decide. Throws when the signature is wrong. */
export function verifyWithCachedKey(idToken: string, keys: FastPathKeys): boolean {
  const parts = idToken.split('.');
  if (parts.length !== 3 || !parts.every(isBase64url)) return false;
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = parseHeader(encodedHeader);
  if (!header || header.alg !== 'RS256' || LEFT_TO_JOSE.some((name) => Object.hasOwn(header, name))) return false;
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') return false;
  const [candidate, ...others] = candidatesFor(keys, kid);
  if (!candidate || others.length > 0) return false;
  const key = (candidate.key ??= keyFor(candidate.jwk));
  if (!key) return false;
  let verified: boolean;
  try {
    const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'latin1');
    verified = verify('sha256', input, key, Buffer.from(encodedSignature, 'base64url'));
  } catch {
    return false;
  }
  if (!verified) throw new jose.errors.JWSSignatureVerificationFailed();
  return true;
}

/** The protected header as jose reads it (strict UTF-8, a JSON object), or undefined. */
function parseHeader(encoded: string): Record<string, unknown> | undefined {
  try {
    const header: unknown = JSON.parse(utf8.decode(Buffer.from(encoded, 'base64url')));
    return typeof header === 'object' && header !== null && !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Members that make a JWK private (or symmetric): jose refuses such a key for verifying. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/**
 * The node:crypto key for a plain public RSA key jose would import and accept: key_ops, if
 * any, exactly ["verify"] (jose imports with key_ops as the usages); n and e strictly
 * base64url; e = 65537 and 2048 to 4096 bits, so that a verification here stays a few tens
 * of microseconds. null for any other key: jose decides (and refuses those under 2048 bits).
 */
function keyFor(jwk: Readonly<Record<string, unknown>>): KeyObject | null {
  const { n, e, key_ops: keyOps } = jwk;
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(jwk, name))) return null;
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.length === 1 && keyOps[0] === 'verify')) return null;
  if (typeof n !== 'string' || n === '' || !isBase64url(n) || e !== 'AQAB') return null;
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 && bits <= 4096 ? key : null;
  } catch {
    return null;
  }
}
