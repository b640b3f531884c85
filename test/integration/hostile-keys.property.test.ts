import { generateKeyPair, randomBytes, createHmac, type KeyObject } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import {
  handMadeJws,
  hostileKeys,
  signWithAnyKey,
  startRogueIdp,
  type Behaviour,
  type TokenContext,
} from '../helpers/rogue-idp.js';
import { registerAutoLoginTenant } from '../helpers/scenario.js';

// The same cases on every run, so that CI is deterministic; PROPERTY_SEED=<n> explores others
// (a failure prints the seed that reproduces it).
fc.configureGlobal({ seed: Number(process.env.PROPERTY_SEED ?? 20_261_207) });

// Hostile key material rule: whatever an IdP publishes as its keys — weak, huge, malformed,
// of another type, thousands of them, megabytes — and however it signs, a login ends with a
// clear error sent back to the app (or a ticket, for a sound key that signed the token); never
// a hang, never a 500, and the broker's event loop never stalls more than 100 ms. The broker
// runs in this process, so the loop measured here is the broker's. A 1024-bit key once sent
// the broker's signature check into a loop of promise callbacks that froze the whole process
// (timers included: nothing in-process can time it out; the runner kills the file).

const MAX_STALL_NS = 100e6;
const KID = 'hostile-kid';

// Key generation stalls this process's loop: all of it happens here, before any measurement.
const rsa = async (bits: number) => (await promisify(generateKeyPair)('rsa', { modulusLength: bits })).privateKey;
const keys = {
  512: await rsa(512),
  1024: await rsa(1024),
  1536: await rsa(1536),
  2047: await rsa(2047),
  2048: await rsa(2048),
  other2048: await rsa(2048),
  4096: await rsa(4096),
};
const ec = (await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' })).privateKey;

/** The public JWK of `privateKey` under `kid`, with `extra` members (or members removed as undefined). */
function publicJwk(privateKey: KeyObject, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = privateKey.export({ format: 'jwk' });
  return Object.fromEntries(
    Object.entries({ ...pub, kid: KID, alg: pub.kty === 'RSA' ? 'RS256' : undefined, use: 'sig', ...extra }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

/**
 * A public RSA key of `bits` bits with no private half (generating an 8192- or 16384-bit key
 * takes tens of seconds to minutes): any odd number of that size serves as a modulus to verify
 * with, and no signature made without its factors matches.
 */
function modulusOnly(bits: number): Record<string, unknown> {
  const n = randomBytes(bits / 8);
  n[0]! |= 0x80;
  n[n.length - 1]! |= 1;
  return { kty: 'RSA', kid: KID, alg: 'RS256', use: 'sig', n: n.toString('base64url'), e: 'AQAB' };
}

const signedBy =
  (key: KeyObject, header: Record<string, unknown> = { kid: KID }) =>
  (claims: Record<string, unknown>) =>
    signWithAnyKey(claims, key, header);
/** A signature of `bytes` random bytes (below any modulus of that size: its first byte is 0). */
const forged = (bytes: number) => (claims: Record<string, unknown>) =>
  handMadeJws({ alg: 'RS256', kid: KID }, claims, () => Buffer.concat([Buffer.alloc(1), randomBytes(bytes - 1)]));
const good = publicJwk(keys[2048]);

/** Small (17-bit) RSA moduli under kids k0, k1, …: tiny members, so that many fit in a JWKS. */
const tinyKeys = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ kty: 'RSA', kid: `k${i}`, n: 'AQAB', e: 'AQAB' }));
const fiveMegabytes = Buffer.from(JSON.stringify({ keys: [good], padding: 'x'.repeat(5 * 1024 * 1024) }));

type Outcome = 'ticket' | 'invalid_id_token' | 'idp_error' | 'token_exchange_failed';
interface Case {
  jwks: unknown;
  raw?: { body: Buffer; contentLength: boolean };
  idToken: (claims: Record<string, unknown>, ctx: TokenContext) => Promise<string> | string;
  /** How the login ends: a ticket, or the error sent back to the app. */
  expect: Outcome;
}

// A JWKS that is not a key set, or whose fetch the broker abandons, is the IdP failing to give
// its keys (token_exchange_failed, as for a JWKS that answers 500); a key set whose key cannot
// verify the token is an identity that fails verification (invalid_id_token).
const cases: Record<string, Case> = {
  'rsa-512': { jwks: { keys: [publicJwk(keys[512])] }, idToken: signedBy(keys[512]), expect: 'invalid_id_token' },
  'rsa-1536': { jwks: { keys: [publicJwk(keys[1536])] }, idToken: signedBy(keys[1536]), expect: 'invalid_id_token' },
  'rsa-2047': { jwks: { keys: [publicJwk(keys[2047])] }, idToken: signedBy(keys[2047]), expect: 'invalid_id_token' },
  'rsa-2048 (control)': { jwks: { keys: [good] }, idToken: signedBy(keys[2048]), expect: 'ticket' },
  'rsa-2048 signed by another key': {
    jwks: { keys: [good] },
    idToken: signedBy(keys.other2048),
    expect: 'invalid_id_token',
  },
  'rsa-4096': { jwks: { keys: [publicJwk(keys[4096])] }, idToken: signedBy(keys[4096]), expect: 'ticket' },
  'rsa-4096 signed by another key': {
    jwks: { keys: [publicJwk(keys[4096])] },
    idToken: signedBy(keys.other2048),
    expect: 'invalid_id_token',
  },
  'rsa-8192, forged signature': {
    jwks: { keys: [modulusOnly(8192)] },
    idToken: forged(1024),
    expect: 'invalid_id_token',
  },
  'rsa-16384, forged signature': {
    jwks: { keys: [modulusOnly(16384)] },
    idToken: forged(2048),
    expect: 'invalid_id_token',
  },
  'rsa-16392 (beyond what OpenSSL verifies), forged signature': {
    jwks: { keys: [modulusOnly(16392)] },
    idToken: forged(2049),
    expect: 'invalid_id_token',
  },
  'n not base64url': {
    jwks: { keys: [{ ...good, n: `${String(good.n).slice(0, 40)}+/!*${String(good.n).slice(44)}` }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  // The signer's own modulus, padded: jose (through node:crypto's lenient JWK import) reads the same key.
  'n padded': {
    jwks: { keys: [{ ...good, n: `${String(good.n)}==` }] },
    idToken: signedBy(keys[2048]),
    expect: 'ticket',
  },
  'n empty': { jwks: { keys: [{ ...good, n: '' }] }, idToken: signedBy(keys[2048]), expect: 'invalid_id_token' },
  'n a number': { jwks: { keys: [{ ...good, n: 12345 }] }, idToken: signedBy(keys[2048]), expect: 'invalid_id_token' },
  'e huge (larger than n)': {
    jwks: { keys: [{ ...good, e: randomBytes(300).toString('base64url') }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'e missing': {
    jwks: { keys: [{ ...good, e: undefined }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'kty missing': {
    jwks: { keys: [{ ...good, kty: undefined }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'a private key (d) in the JWKS': {
    jwks: { keys: [{ ...keys[2048].export({ format: 'jwk' }), kid: KID, alg: 'RS256' }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'key_ops sign only': {
    jwks: { keys: [{ ...good, key_ops: ['sign'] }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'key_ops verify and sign': {
    jwks: { keys: [{ ...good, key_ops: ['verify', 'sign'] }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'non-object entries': {
    jwks: { keys: [good, 'key', 42, null] },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  'keys not an array': {
    jwks: { keys: { [KID]: good } },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  'a JWKS that is an array': { jwks: [good], idToken: signedBy(keys[2048]), expect: 'token_exchange_failed' },
  'an EC key under the kid': {
    jwks: { keys: [publicJwk(ec)] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'an ES256 token and its EC key': {
    jwks: { keys: [publicJwk(ec, { alg: 'ES256' })] },
    idToken: signedBy(ec, { alg: 'ES256', kid: KID }),
    expect: 'invalid_id_token',
  },
  'an oct key under the kid, HS256 token keyed with it': {
    jwks: { keys: [{ kty: 'oct', kid: KID, k: 'c2VjcmV0' }] },
    idToken: (claims) =>
      handMadeJws({ alg: 'HS256', kid: KID }, claims, (input) => createHmac('sha256', 'secret').update(input).digest()),
    expect: 'invalid_id_token',
  },
  'duplicate kid: a 1024-bit key and the signer': {
    jwks: { keys: [publicJwk(keys[1024]), good] },
    idToken: signedBy(keys[2048]),
    expect: 'ticket',
  },
  'duplicate kid: neither is the signer': {
    jwks: { keys: [good, publicJwk(keys[4096])] },
    idToken: signedBy(keys.other2048),
    expect: 'invalid_id_token',
  },
  'use: enc': { jwks: { keys: [{ ...good, use: 'enc' }] }, idToken: signedBy(keys[2048]), expect: 'invalid_id_token' },
  'an RS512 key for an RS256 token': {
    jwks: { keys: [{ ...good, alg: 'RS512' }] },
    idToken: signedBy(keys[2048]),
    expect: 'invalid_id_token',
  },
  'an HS256 token keyed with the modulus': {
    jwks: { keys: [good] },
    idToken: (claims) =>
      handMadeJws({ alg: 'HS256', kid: KID }, claims, (input) =>
        createHmac('sha256', String(good.n)).update(input).digest(),
      ),
    expect: 'invalid_id_token',
  },
  'junk x5c beside a sound key': {
    jwks: { keys: [{ ...good, x5c: ['not a certificate', 42, { a: 1 }] }] },
    idToken: signedBy(keys[2048]),
    expect: 'ticket',
  },
  'a hundred keys (the most a JWKS may hold), the token names the last': {
    jwks: { keys: [...tinyKeys(99), good] },
    idToken: signedBy(keys[2048]),
    expect: 'ticket',
  },
  'a thousand keys (in under 128 KiB)': {
    jwks: { keys: [...tinyKeys(999), good] },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  'eleven keys, the token has no kid (more than the broker tries)': {
    jwks: { keys: [...Array.from({ length: 10 }, () => modulusOnly(2048)), { ...good, kid: undefined }] },
    idToken: signedBy(keys[2048], {}),
    expect: 'invalid_id_token',
  },
  'ten keys, the token has no kid, the signer last': {
    jwks: { keys: [...Array.from({ length: 9 }, () => modulusOnly(2048)), good] },
    idToken: signedBy(keys[2048], {}),
    expect: 'ticket',
  },
  '10,000 keys': {
    jwks: { keys: [...tinyKeys(9_999), good] },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  '40,000 empty members (in under 128 KiB)': {
    jwks: { keys: [good, ...Array.from({ length: 40_000 }, () => ({}))] },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  '170,000 empty members (in under 512 KiB)': {
    jwks: { keys: [good, ...Array.from({ length: 170_000 }, () => ({}))] },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  '5 MB JWKS with its Content-Length': {
    jwks: undefined,
    raw: { body: fiveMegabytes, contentLength: true },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
  '5 MB JWKS streamed (no Content-Length)': {
    jwks: undefined,
    raw: { body: fiveMegabytes, contentLength: false },
    idToken: signedBy(keys[2048]),
    expect: 'token_exchange_failed',
  },
};

const behaviours: Record<string, Behaviour> = {
  warmup: hostileKeys({ jwks: { keys: [good] }, idToken: signedBy(keys[2048]) }),
  'rsa-1024': hostileKeys({ jwks: { keys: [publicJwk(keys[1024])] }, idToken: signedBy(keys[1024]) }),
};
const names = new Map<string, string>();
for (const [rule, hostile] of Object.entries(cases)) {
  const name = `case-${names.size}`;
  names.set(rule, name);
  behaviours[name] = hostileKeys(hostile);
}

const rogue = await startRogueIdp(t, behaviours);
const broker = await startBroker(t, { idpTimeoutSeconds: 2 });
let tenants = 0;
const tenantFor = (name: string) =>
  registerAutoLoginTenant(broker, {
    slug: `hostile-${tenants++}`,
    issuer: rogue.issuer(name),
    clientSecret: rogue.clientSecret,
  });

/**
 * One login through `name`'s provider, its tenant registered beforehand (so each login fetches
 * discovery and keys anew): how it ended, how long it took, and the longest the event loop
 * stalled meanwhile (ns).
 */
async function oneLogin(name: string): Promise<{ outcome: string; ms: number; stallNs: number }> {
  const tenant = await tenantFor(name);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = performance.now();
  try {
    const { ticket, error } = await tenant.login();
    return { outcome: ticket ? 'ticket' : String(error), ms: performance.now() - started, stallNs: histogram.max };
  } finally {
    histogram.disable();
  }
}

/**
 * The login, played again (up to three times in all) while it stalls the loop over the bound:
 * a stall the broker's code causes comes back on every identical login, one caused by the
 * machine (the other processes sharing its two cores, a garbage collection) seldom three times
 * in a row. The outcome must be the same each time.
 */
async function measuredLogin(name: string): Promise<{ outcome: string; ms: number; stallNs: number }> {
  let best = await oneLogin(name);
  for (let attempt = 1; attempt < 3 && best.stallNs >= MAX_STALL_NS; attempt++) {
    const again = await oneLogin(name);
    if (again.outcome !== best.outcome) return { ...again, outcome: `${best.outcome}, then ${again.outcome}` };
    if (again.stallNs < best.stallNs) best = again;
  }
  return best;
}

// The first login through a fresh broker loads code; it is not what is measured.
t.equal((await (await tenantFor('warmup')).login()).error, null, 'warm-up login');

t.test(
  'a 1024-bit key under the token kid is refused promptly (it once froze the broker)',
  { timeout: 15_000 },
  async (t) => {
    const { outcome, ms, stallNs } = await measuredLogin('rsa-1024');
    t.equal(outcome, 'invalid_id_token');
    t.ok(ms < 3_000, `answered in ${Math.round(ms)} ms`);
    t.ok(stallNs < MAX_STALL_NS, `event loop stalled at most ${(stallNs / 1e6).toFixed(1)} ms`);
  },
);

for (const [rule, { expect }] of Object.entries(cases)) {
  t.test(`hostile keys: ${rule} → ${expect}`, { timeout: 15_000 }, async (t) => {
    const { outcome, stallNs } = await measuredLogin(names.get(rule)!);
    t.equal(outcome, expect);
    t.ok(stallNs < MAX_STALL_NS, `event loop stalled at most ${(stallNs / 1e6).toFixed(1)} ms`);
  });
}

// Arbitrary members under the token's kid, beside or instead of the signer's own n and e: the
// login ends in a ticket only when the key is the signer's sound key, else invalid_id_token.
t.test('hostile keys: arbitrary JWK members under the token kid', { timeout: 60_000 }, async (t) => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  );
  const member = (...values: unknown[]) => fc.oneof(fc.constantFrom(...values), junk);
  const jwk = fc.record({
    kty: member('RSA', 'EC', 'oct'),
    n: member(good.n, '', 'AQAB', `${String(good.n)}=`, String(good.n).replace(/[-_]/g, '+')),
    e: member('AQAB', 'AAEAAQ', '', 'Aw', randomBytes(40).toString('base64url')),
    alg: member(undefined, 'RS256', 'RS512', 'PS256', 'HS256', 'none'),
    use: member(undefined, 'sig', 'enc'),
    key_ops: member(undefined, ['verify'], ['sign'], [], ['verify', 'verify'], 'verify'),
    ext: member(undefined, true, false),
    x5c: member(undefined, ['AAAA'], 'junk'),
  });
  const runs = Number(process.env.PROPERTY_RUNS ?? 16);
  const problems: string[] = [];
  let run = 0;
  await fc
    .assert(
      fc.asyncProperty(jwk, async (members) => {
        const served = Object.fromEntries(Object.entries({ ...members, kid: KID }).filter(([, v]) => v !== undefined));
        const name = `arbitrary-${run++}`;
        behaviours[name] = hostileKeys({ jwks: { keys: [served] }, idToken: signedBy(keys[2048]) });
        const problem = await measuredLogin(name).then(
          ({ outcome, stallNs }) =>
            (!['ticket', 'invalid_id_token'].includes(outcome) && outcome) ||
            (outcome === 'ticket' &&
              (served.n !== good.n || served.kty !== 'RSA') &&
              'accepted by a key that did not sign') ||
            (stallNs >= MAX_STALL_NS && `event loop stalled ${(stallNs / 1e6).toFixed(1)} ms`),
          (error: Error) => error.message,
        );
        if (problem) problems.push(`${problem}: ${JSON.stringify(served)}`);
        return !problem;
      }),
      { numRuns: runs, endOnFailure: true },
    )
    .catch(() => undefined);
  t.same(problems, [], `${run} arbitrary keys: a ticket from the signer's own key, else invalid_id_token`);
});
