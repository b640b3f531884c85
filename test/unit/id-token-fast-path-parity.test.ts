import { constants, createHmac, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as jose from 'jose';
import t from 'tap';
import { isBrokerError } from '../../src/errors/broker-error.js';
import { prepareFastPath, verifyWithCachedKey } from '../../src/oidc/id-token-fast-path.js';
import { verifyIdTokenSignature } from '../../src/oidc/id-token-signature.js';
import type { IdpKeys } from '../../src/oidc/idp.js';

// Parity rule: the ID-token shortcut (id-token-fast-path.ts) decides only as jose decides.
// Every token below, forged or odd, goes through both against the same JWKS: where the
// shortcut accepts, jose accepts; where it refuses, jose refuses; where it answers
// "undecided", jose decides, and that is agreement. The broker's whole check
// (verifyIdTokenSignature, both stages together) must reach jose's verdict too.

const generate = promisify(generateKeyPair);
const rsa = async (bits: number) => (await generate('rsa', { modulusLength: bits })).privateKey;
const signer = await rsa(2048);
const stranger = await rsa(2048);
const weak = await rsa(1024);
const large = await rsa(4096);
const ecKey = (await generate('ec', { namedCurve: 'P-256' })).privateKey;

type Jwk = Record<string, unknown>;
const publicJwk = (key: KeyObject, kid: string | undefined = 'a', extra: Jwk = {}): Jwk => {
  const { kty, n, e, crv, x, y } = key.export({ format: 'jwk' });
  return Object.fromEntries(
    Object.entries({ kty, n, e, crv, x, y, kid, use: 'sig', ...extra }).filter(([, v]) => v !== undefined),
  );
};
const privateJwk = (key: KeyObject): Jwk => ({ ...key.export({ format: 'jwk' }), kid: 'a' });

const b64u = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const claims = { iss: 'https://idp.example', sub: 'user-1', aud: 'client', exp: 2_000_000_000, iat: 1_700_000_000 };
const encodedClaims = b64u(JSON.stringify(claims));

type Sign = (input: string) => Buffer;
const rs256 =
  (key: KeyObject): Sign =>
  (input) =>
    sign('sha256', Buffer.from(input), key);
const rs512 =
  (key: KeyObject): Sign =>
  (input) =>
    sign('sha512', Buffer.from(input), key);
const ps256 =
  (key: KeyObject): Sign =>
  (input) =>
    sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
const es256 =
  (key: KeyObject): Sign =>
  (input) =>
    sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
const hs256 =
  (secret: string): Sign =>
  (input) =>
    createHmac('sha256', secret).update(input).digest();

/** A compact JWS over `header` (an object, or an encoded segment as is) and the claims (or a segment). */
function jws(header: Jwk | string, sign: Sign = rs256(signer), payload: string = encodedClaims): string {
  const input = `${typeof header === 'string' ? header : b64u(JSON.stringify(header))}.${payload}`;
  return `${input}.${b64u(sign(input))}`;
}

const good = jws({ alg: 'RS256', kid: 'a' });
const [goodHeader, goodPayload, goodSignature] = good.split('.') as [string, string, string];
/** `good` with segment `index` (0 header, 1 payload, 2 signature) edited. */
const editSegment = (index: number, edit: (segment: string) => string) =>
  good
    .split('.')
    .map((segment, i) => (i === index ? edit(segment) : segment))
    .join('.');
const insertAt = (segment: string, text: string) => `${segment.slice(0, 10)}${text}${segment.slice(10)}`;

const oneKey = { keys: [publicJwk(signer)] };
const flipped = Buffer.from(goodSignature, 'base64url');
flipped[7]! ^= 0x01;

// [name, token, JWKS]
const cases: [string, string, { keys: Jwk[] }][] = [
  ['a sound token', good, oneKey],
  ['a flipped signature bit', `${goodHeader}.${goodPayload}.${b64u(flipped)}`, oneKey],
  ['signed by another key under the kid', jws({ alg: 'RS256', kid: 'a' }, rs256(stranger)), oneKey],
  ['claims swapped under a sound signature', `${goodHeader}.${b64u('{"sub":"admin"}')}.${goodSignature}`, oneKey],
  ['a 1024-bit key, its own signature', jws({ alg: 'RS256', kid: 'a' }, rs256(weak)), { keys: [publicJwk(weak)] }],
  [
    'a 1024-bit key, a forged signature',
    jws({ alg: 'RS256', kid: 'a' }, () => randomBytes(128)),
    { keys: [publicJwk(weak)] },
  ],
  ['a 4096-bit key, its own signature', jws({ alg: 'RS256', kid: 'a' }, rs256(large)), { keys: [publicJwk(large)] }],
  ['a 4096-bit key, another signature', jws({ alg: 'RS256', kid: 'a' }, rs256(signer)), { keys: [publicJwk(large)] }],
  ['an empty signature', `${goodHeader}.${goodPayload}.`, oneKey],
  [
    'a signature one byte too long',
    `${goodHeader}.${goodPayload}.${b64u(Buffer.concat([Buffer.from(goodSignature, 'base64url'), Buffer.alloc(1)]))}`,
    oneKey,
  ],
  [
    'a signature of impossible length (4n+1)',
    `${goodHeader}.${goodPayload}.${goodSignature}${'A'.repeat(5 - (goodSignature.length % 4))}`,
    oneKey,
  ],
  [
    'a signature with its unused low bits set',
    editSegment(2, (s) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`),
    oneKey,
  ],
  ['extra dot at the end', `${good}.`, oneKey],
  ['extra segment', `${good}.${goodSignature}`, oneKey],
  ['leading dot', `.${good}`, oneKey],
  ['two segments', `${goodHeader}.${goodPayload}`, oneKey],
  ['an empty token', '', oneKey],
  ['alg none', `${b64u('{"alg":"none","kid":"a"}')}.${goodPayload}.`, oneKey],
  ['alg HS256 keyed with the modulus', jws({ alg: 'HS256', kid: 'a' }, hs256(String(publicJwk(signer).n))), oneKey],
  ['alg RS512', jws({ alg: 'RS512', kid: 'a' }, rs512(signer)), oneKey],
  ['alg PS256', jws({ alg: 'PS256', kid: 'a' }, ps256(signer)), oneKey],
  ['alg ES256 with an EC key', jws({ alg: 'ES256', kid: 'a' }, es256(ecKey)), { keys: [publicJwk(ecKey)] }],
  ['alg missing', jws({ kid: 'a' }), oneKey],
  ['alg empty', jws({ alg: '', kid: 'a' }), oneKey],
  ['alg not a string', jws({ alg: ['RS256'], kid: 'a' }), oneKey],
  ['alg in another case', jws({ alg: 'rs256', kid: 'a' }), oneKey],
  ['crit naming an unknown extension', jws({ alg: 'RS256', kid: 'a', crit: ['x-unknown'], 'x-unknown': 1 }), oneKey],
  ['crit empty', jws({ alg: 'RS256', kid: 'a', crit: [] }), oneKey],
  ['crit not an array', jws({ alg: 'RS256', kid: 'a', crit: 'b64', b64: false }), oneKey],
  ['crit b64 with b64 true', jws({ alg: 'RS256', kid: 'a', crit: ['b64'], b64: true }), oneKey],
  [
    'crit b64 with b64 false (an unencoded payload)',
    jws({ alg: 'RS256', kid: 'a', crit: ['b64'], b64: false }, rs256(signer), 'plain-payload'),
    oneKey,
  ],
  ['b64 false without crit (jose ignores it)', jws({ alg: 'RS256', kid: 'a', b64: false }), oneKey],
  ['kid naming no key', jws({ alg: 'RS256', kid: 'nope' }), oneKey],
  ['kid not a string', jws({ alg: 'RS256', kid: 1 }), { keys: [publicJwk(signer, '1')] }],
  ['kid empty', jws({ alg: 'RS256', kid: '' }), { keys: [publicJwk(signer, '')] }],
  ['no kid, one key', jws({ alg: 'RS256' }), oneKey],
  ['no kid, one key without kid', jws({ alg: 'RS256' }), { keys: [publicJwk(signer, undefined)] }],
  ['no kid, several keys', jws({ alg: 'RS256' }), { keys: [publicJwk(stranger, 'b'), publicJwk(signer)] }],
  ['duplicate kid, the signer second', good, { keys: [publicJwk(stranger), publicJwk(signer)] }],
  [
    'duplicate kid, neither the signer',
    jws({ alg: 'RS256', kid: 'a' }, rs256(weak)),
    { keys: [publicJwk(stranger), publicJwk(large)] },
  ],
  ['the key under the kid is EC', good, { keys: [publicJwk(ecKey)] }],
  ['the key under the kid is oct', good, { keys: [{ kty: 'oct', kid: 'a', k: 'c2VjcmV0' }] }],
  ['the key under the kid is private', good, { keys: [privateJwk(signer)] }],
  ['the key says use enc', good, { keys: [publicJwk(signer, 'a', { use: 'enc' })] }],
  ['the key says alg RS256', good, { keys: [publicJwk(signer, 'a', { alg: 'RS256' })] }],
  ['the key says alg RS512', good, { keys: [publicJwk(signer, 'a', { alg: 'RS512' })] }],
  ['the key says key_ops verify', good, { keys: [publicJwk(signer, 'a', { key_ops: ['verify'] })] }],
  ['the key says key_ops verify and sign', good, { keys: [publicJwk(signer, 'a', { key_ops: ['verify', 'sign'] })] }],
  ['the key says key_ops sign', good, { keys: [publicJwk(signer, 'a', { key_ops: ['sign'] })] }],
  ['the key says key_ops verify twice', good, { keys: [publicJwk(signer, 'a', { key_ops: ['verify', 'verify'] })] }],
  ['the key says ext false', good, { keys: [publicJwk(signer, 'a', { ext: false })] }],
  ['the key says ext "no"', good, { keys: [publicJwk(signer, 'a', { ext: 'no' })] }],
  ['the key has junk x5c', good, { keys: [publicJwk(signer, 'a', { x5c: ['not a certificate', 42] })] }],
  ['the key has no kty', good, { keys: [publicJwk(signer, 'a', { kty: undefined })] }],
  ['the key has no e', good, { keys: [publicJwk(signer, 'a', { e: undefined })] }],
  ['the key has e = 3', good, { keys: [publicJwk(signer, 'a', { e: 'Aw' })] }],
  ['the key has e with a leading zero byte', good, { keys: [publicJwk(signer, 'a', { e: 'AAEAAQ' })] }],
  ['the key has a huge e', good, { keys: [publicJwk(signer, 'a', { e: b64u(randomBytes(300)) })] }],
  ['the key has n empty', good, { keys: [publicJwk(signer, 'a', { n: '' })] }],
  ['the key has n a number', good, { keys: [publicJwk(signer, 'a', { n: 12345 })] }],
  ['the key has n padded', good, { keys: [publicJwk(signer, 'a', { n: `${String(publicJwk(signer).n)}==` })] }],
  [
    'the key has n in standard base64',
    good,
    { keys: [publicJwk(signer, 'a', { n: Buffer.from(String(publicJwk(signer).n), 'base64url').toString('base64') })] },
  ],
  [
    'the key has n with a leading zero byte',
    good,
    {
      keys: [
        publicJwk(signer, 'a', {
          n: b64u(Buffer.concat([Buffer.alloc(1), Buffer.from(String(publicJwk(signer).n), 'base64url')])),
        }),
      ],
    },
  ],
  ['the header is an array', jws(b64u('["RS256"]')), oneKey],
  ['the header is a string', jws(b64u('"RS256"')), oneKey],
  ['the header is null', jws(b64u('null')), oneKey],
  ['the header is not JSON', jws(b64u('{"alg":"RS256"')), oneKey],
  ['the header is not UTF-8', jws(b64u(Buffer.from([0x7b, 0xff, 0x7d]))), oneKey],
  ['the header starts with a BOM', jws(b64u(`\uFEFF${JSON.stringify({ alg: 'RS256', kid: 'a' })}`)), oneKey],
  ['the header has a __proto__ member', jws(b64u('{"__proto__":{"alg":"RS256"},"kid":"a"}')), oneKey],
  ['the header is huge', jws({ alg: 'RS256', kid: 'a', padding: 'x'.repeat(200_000) }), oneKey],
  [
    'the payload is not base64url (signed as is)',
    jws({ alg: 'RS256', kid: 'a' }, rs256(signer), 'not*base64url'),
    oneKey,
  ],
  ['the payload is empty', jws({ alg: 'RS256', kid: 'a' }, rs256(signer), ''), oneKey],
];
// Characters outside base64url, and padding, in each segment (the signature re-made where it can be).
const segments = ['header', 'payload', 'signature'];
for (const [index, segment] of segments.entries()) {
  for (const text of ['+', '/', '=', '==', '!', ' ', '\n', '\t', '%', 'é', '\u0000']) {
    const edit = (s: string) => insertAt(s, text);
    const token =
      index === 2
        ? editSegment(2, edit)
        : index === 0
          ? jws(edit(goodHeader))
          : jws({ alg: 'RS256', kid: 'a' }, rs256(signer), edit(goodPayload));
    cases.push([`${JSON.stringify(text)} inside the ${segment}`, token, oneKey]);
  }
  const padded =
    index === 2
      ? `${good}=`
      : index === 0
        ? jws(`${goodHeader}=`)
        : jws({ alg: 'RS256', kid: 'a' }, rs256(signer), `${goodPayload}=`);
  cases.push([`"=" padding after the ${segment}`, padded, oneKey]);
  const standard = (s: string) => s.replace(/-/g, '+').replace(/_/g, '/');
  if (/[-_]/.test([goodHeader, goodPayload, goodSignature][index]!)) {
    const token =
      index === 2
        ? editSegment(2, standard)
        : index === 0
          ? jws(standard(goodHeader))
          : jws({ alg: 'RS256', kid: 'a' }, rs256(signer), standard(goodPayload));
    cases.push([`the ${segment} in standard base64`, token, oneKey]);
  }
}

type Verdict = 'accept' | 'refuse' | 'undecided';

function fastPath(token: string, jwks: { keys: Jwk[] }): Verdict {
  try {
    return verifyWithCachedKey(token, prepareFastPath(jwks as jose.JSONWebKeySet)) ? 'accept' : 'undecided';
  } catch {
    return 'refuse';
  }
}

/** jose as the broker uses it: RS256 only, over a local copy, every candidate tried when several match. */
async function joseVerdict(token: string, jwks: { keys: Jwk[] }): Promise<Verdict> {
  const options = { algorithms: ['RS256'] };
  try {
    await jose.compactVerify(token, jose.createLocalJWKSet(jwks as jose.JSONWebKeySet), options);
    return 'accept';
  } catch (error) {
    if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) return 'refuse';
    for await (const candidate of error as unknown as AsyncIterable<jose.CryptoKey>) {
      try {
        await jose.compactVerify(token, candidate, options);
        return 'accept';
      } catch {
        // the next candidate
      }
    }
    return 'refuse';
  }
}

/** The broker's whole check, over a copy fetched just now (no network: the fetch is stubbed). */
async function brokerVerdict(token: string, jwks: { keys: Jwk[] }): Promise<Verdict> {
  const remote = Object.assign(async () => Promise.reject(new Error('not used')), {
    fresh: false,
    coolingDown: true,
    reloading: false,
    reload: async () => {
      remote.fresh = true;
    },
    jwks: () => structuredClone(jwks) as jose.JSONWebKeySet,
  });
  const keys: IdpKeys = { remote: remote as unknown as IdpKeys['remote'], copy: undefined, fetching: undefined };
  try {
    await verifyIdTokenSignature(token, { keys });
    return 'accept';
  } catch (error) {
    if (isBrokerError(error) && error.code === 'invalid_id_token') return 'refuse';
    throw error;
  }
}

const decided: string[] = [];
for (const [name, token, jwks] of cases) {
  t.test(name, async (t) => {
    const fast = fastPath(token, jwks);
    const reference = await joseVerdict(token, jwks);
    if (fast !== 'undecided') {
      decided.push(name);
      t.equal(fast, reference, `the shortcut ${fast}s, as jose does`);
    } else t.pass(`the shortcut leaves it to jose, which ${reference === 'accept' ? 'accepts' : 'refuses'}`);
    t.equal(await brokerVerdict(token, jwks), reference, 'the broker reaches jose’s verdict');
  });
}

t.test('the shortcut still decides the common cases (else it is no shortcut)', async (t) => {
  for (const name of [
    'a sound token',
    'a flipped signature bit',
    'signed by another key under the kid',
    'a 4096-bit key, its own signature',
    'no kid, one key',
    'the header is huge',
  ]) {
    t.ok(decided.includes(name), name);
  }
});
