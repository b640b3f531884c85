import { createHmac, createPublicKey, sign } from 'node:crypto';
import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { handMadeJws, rs256, startRogueIdp, type Behaviour, type RogueIdp } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// OpenID Connect Core §3.1.3.7 (ID token validation) and the IdP-response rules of issue 3,
// each against a provider that breaks exactly that rule. "rule:" names the guarantee.

const now = () => Math.floor(Date.now() / 1000);
const withClaims = (edit: (c: Record<string, unknown>) => void): Behaviour => ({
  claims: (claims) => {
    edit(claims);
    return claims;
  },
});

let forgery: Behaviour['idToken'];
const behaviours: Record<string, Behaviour> = {
  good: {},
  'alg-none': { idToken: (claims) => handMadeJws({ alg: 'none' }, claims, () => '') },
  'hs256-client-secret': {
    idToken: (claims, ctx) =>
      handMadeJws({ alg: 'HS256', kid: ctx.keys.current.kid }, claims, (input) =>
        createHmac('sha256', ctx.clientSecret).update(input).digest(),
      ),
  },
  'hs256-public-key': {
    // Key confusion: HMAC keyed with the IdP's own public key (PEM), which anyone can fetch.
    idToken: (claims, ctx) => {
      const pem = createPublicKey({ key: ctx.keys.current.publicJwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      return handMadeJws({ alg: 'HS256', kid: ctx.keys.current.kid }, claims, (input) =>
        createHmac('sha256', pem).update(input).digest(),
      );
    },
  },
  'bad-signature': {
    idToken: async (claims, ctx) => {
      const token = await rs256(claims, ctx.keys.current);
      const [h, p, s] = token.split('.');
      const sig = Buffer.from(s!, 'base64url');
      sig[10]! ^= 0xff;
      return `${h}.${p}.${sig.toString('base64url')}`;
    },
  },
  'key-not-in-jwks': { idToken: (claims, ctx) => rs256(claims, ctx.keys.other) },
  // Signs correctly until a test sets a forgery: the rules must hold once the keys are cached too.
  forger: { idToken: (claims, ctx) => (forgery ? forgery(claims, ctx) : rs256(claims, ctx.keys.current)) },
  'kid-absent-one-key': { idToken: (claims, ctx) => rs256(claims, ctx.keys.current, { kid: undefined }) },
  'kid-absent-two-keys': {
    idToken: (claims, ctx) => rs256(claims, ctx.keys.current, { kid: undefined }),
    jwks: (keys) => ({ keys: [keys.other.publicJwk, keys.current.publicJwk] }),
  },
  'wrong-iss': withClaims((c) => (c.iss = 'https://evil.example')),
  'iss-trailing-slash': withClaims((c) => (c.iss = `${c.iss}/`)),
  'wrong-aud': withClaims((c) => (c.aud = 'someone-else')),
  'multi-aud-no-azp': withClaims((c) => (c.aud = [c.aud, 'someone-else'])),
  'multi-aud-wrong-azp': withClaims((c) => {
    c.aud = [c.aud, 'someone-else'];
    c.azp = 'someone-else';
  }),
  'single-aud-wrong-azp': withClaims((c) => (c.azp = 'someone-else')),
  'single-aud-right-azp': withClaims((c) => (c.azp = c.aud)),
  expired: withClaims((c) => (c.exp = now() - 120)),
  'expired-within-skew': withClaims((c) => (c.exp = now() - 20)),
  'iat-in-future': withClaims((c) => (c.iat = now() + 600)),
  'nbf-in-future': withClaims((c) => (c.nbf = now() + 600)),
  'wrong-nonce': withClaims((c) => (c.nonce = 'not-the-nonce')),
  'no-nonce': withClaims((c) => delete c.nonce),
  'no-sub': withClaims((c) => delete c.sub),
  'no-email-no-username': {
    ...withClaims((c) => {
      delete c.email;
      delete c.email_verified;
    }),
    userinfo: ({ email: _e, email_verified: _v, ...claims }) => claims,
  },
  // An ID token without email: the broker asks userinfo for it (OpenID Connect Core §5.3).
  'email-from-userinfo': {
    ...withClaims((c) => {
      delete c.email;
      delete c.email_verified;
      c.preferred_username = 'rogue-login';
    }),
    userinfo: (claims) => ({ ...claims, email: 'from-userinfo@rogue.example', email_verified: true }),
  },
  'email-from-userinfo-other-sub': {
    ...withClaims((c) => {
      delete c.email;
      c.preferred_username = 'rogue-login';
    }),
    userinfo: (claims) => ({ ...claims, sub: 'someone-else' }),
  },
  'email-userinfo-down': {
    ...withClaims((c) => {
      delete c.email;
      delete c.email_verified;
      c.preferred_username = 'rogue-login';
    }),
    userinfo: () => (res) => res.writeHead(503).end(),
  },
  'discovery-500': { discoveryResponse: (res) => (res.writeHead(500).end(), true) },
  'discovery-not-json': {
    discoveryResponse: (res) => (res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'), true),
  },
  'discovery-huge': {
    discoveryResponse: (res) => (
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"issuer":"${'x'.repeat(2 * 1024 * 1024)}"}`),
      true
    ),
  },
  'discovery-hangs': { discoveryResponse: () => true },
  'discovery-wrong-issuer': { discovery: (doc) => ({ ...doc, issuer: `${doc.issuer}/other` }) },
  'token-error': {
    token: (res) => (res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}'), true),
  },
  'token-500': { token: (res) => (res.writeHead(500).end('boom'), true) },
  'token-not-json': {
    token: (res) => (res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>'), true),
  },
  'token-huge': {
    token: (res, tokens) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...tokens, padding: 'x'.repeat(5 * 1024 * 1024) }));
      return true;
    },
  },
  'token-hangs': { token: () => true },
  'jwks-500': { jwks: () => (res) => res.writeHead(500).end() },
  'jwks-not-json': { jwks: () => (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>') },
  'jwks-hangs': { jwks: () => () => {} },
  'userinfo-other-sub': { userinfo: (claims) => ({ ...claims, sub: 'someone-else' }) },
};

const rogue: RogueIdp = await startRogueIdp(t, behaviours);
const broker: TestBroker = await startBroker(t, { idpTimeoutSeconds: 1, clockToleranceSeconds: 60 });

const tenants = new Map<string, Awaited<ReturnType<typeof registerAutoLoginTenant>>>();
async function loginThrough(name: string, connection: Record<string, unknown> = {}) {
  if (!tenants.has(name)) {
    const slug = name.replace(/[^a-z0-9-]/g, '-').slice(0, 50);
    tenants.set(
      name,
      await registerAutoLoginTenant(broker, {
        slug,
        issuer: rogue.issuer(name),
        clientSecret: rogue.clientSecret,
        connection,
      }),
    );
  }
  const tenant = tenants.get(name)!;
  return { ...(await tenant.login()), app: tenant.app };
}

const refusals: [string, string, string][] = [
  ['alg-none', 'invalid_id_token', 'signature rule: alg none is refused'],
  ['hs256-client-secret', 'invalid_id_token', 'signature rule: HS256 is refused (RS256 only)'],
  ['hs256-public-key', 'invalid_id_token', 'signature rule: HS256 keyed with the IdP public key is refused'],
  ['bad-signature', 'invalid_id_token', 'signature rule: a bad signature is refused'],
  ['key-not-in-jwks', 'invalid_id_token', 'signature rule: a key absent from the JWKS is refused'],
  ['wrong-iss', 'invalid_id_token', 'iss rule: another issuer is refused'],
  ['iss-trailing-slash', 'invalid_id_token', 'iss rule: compared exactly, no slash normalisation'],
  ['wrong-aud', 'invalid_id_token', 'aud rule: the client id must be an audience'],
  ['multi-aud-no-azp', 'invalid_id_token', 'azp rule: several audiences need azp'],
  ['multi-aud-wrong-azp', 'invalid_id_token', 'azp rule: azp must be the client id'],
  [
    'single-aud-wrong-azp',
    'invalid_id_token',
    'azp rule: an azp naming another client is refused even with a single audience',
  ],
  ['expired', 'invalid_id_token', 'exp rule: an expired token is refused'],
  ['iat-in-future', 'invalid_id_token', 'iat rule: a token issued in the future is refused'],
  ['nbf-in-future', 'invalid_id_token', 'nbf rule: a token not yet valid is refused'],
  ['wrong-nonce', 'invalid_id_token', 'nonce rule: another nonce is refused'],
  ['no-nonce', 'invalid_id_token', 'nonce rule: a missing nonce is refused'],
  ['no-sub', 'missing_claims', 'claims rule: no sub is missing_claims'],
  ['no-email-no-username', 'missing_claims', 'claims rule: neither email nor preferred_username is missing_claims'],
  ['discovery-500', 'idp_error', 'discovery rule: a failing discovery fetch sends the learner back with idp_error'],
  ['discovery-not-json', 'idp_error', 'discovery rule: a non-JSON discovery document'],
  ['discovery-huge', 'idp_error', 'discovery rule: an oversized discovery document'],
  ['discovery-hangs', 'idp_error', 'discovery rule: a discovery fetch that never answers times out'],
  [
    'discovery-wrong-issuer',
    'idp_error',
    'discovery rule: a discovery issuer that differs from the configured one is refused',
  ],
  ['token-error', 'token_exchange_failed', 'token rule: an OAuth error from the token endpoint'],
  ['token-500', 'token_exchange_failed', 'token rule: a 500 from the token endpoint'],
  ['token-not-json', 'token_exchange_failed', 'token rule: a non-JSON token answer'],
  ['token-huge', 'token_exchange_failed', 'token rule: an oversized token answer'],
  ['token-hangs', 'token_exchange_failed', 'token rule: a token endpoint that never answers times out'],
  ['jwks-500', 'token_exchange_failed', 'jwks rule: a failing JWKS fetch'],
  ['jwks-not-json', 'token_exchange_failed', 'jwks rule: a non-JSON JWKS'],
  ['jwks-hangs', 'token_exchange_failed', 'jwks rule: a JWKS that never answers times out'],
];

t.test('the well-behaved provider signs in (control)', async (t) => {
  const result = await loginThrough('good');
  t.equal(result.error, null);
  t.ok(result.ticket);
  t.equal((await redeem(broker, result.app, result.ticket)).body.subject, 'rogue-user-1');
});

for (const [name, code, rule] of refusals) {
  t.test(rule, async (t) => {
    const result = await loginThrough(name);
    t.equal(result.error, code, `${name} → ${code}`);
    t.equal(result.ticket, null, 'no ticket');
  });
}

t.test('signature rule: kid absent with one key in the JWKS is accepted', async (t) => {
  t.ok((await loginThrough('kid-absent-one-key')).ticket);
});

t.test(
  'signature rule: kid absent with several keys: every key is tried (an RP-test-accepted behaviour)',
  async (t) => {
    t.ok((await loginThrough('kid-absent-two-keys')).ticket);
  },
);

t.test('azp rule: an azp equal to the client id, with a single audience, is accepted', async (t) => {
  t.ok((await loginThrough('single-aud-right-azp')).ticket);
});

t.test('exp rule: an expiry within the clock skew is tolerated', async (t) => {
  t.ok((await loginThrough('expired-within-skew')).ticket);
});

t.test('discovery rule: the app is told clearly why the IdP was refused', async (t) => {
  const tenant = tenants.get('discovery-wrong-issuer')!;
  const { browser } = await tenant.login();
  const back = new URL(browser.hops.at(-1)!.location!);
  t.match(back.searchParams.get('error_description'), /names another issuer/);
});

t.test('userinfo rule: its sub must equal the ID token sub', async (t) => {
  const result = await loginThrough('userinfo-other-sub', { fetchUserinfo: true });
  t.equal(result.error, 'invalid_id_token');
  t.equal(result.ticket, null);
});

t.test(
  'userinfo rule: an ID token without email sends the broker to userinfo; its sub must match; the ID token wins',
  async (t) => {
    const found = await loginThrough('email-from-userinfo');
    t.ok(found.ticket, 'the login completes');
    const identity = (await redeem(broker, tenants.get('email-from-userinfo')!.app, found.ticket)).body;
    t.match(identity, {
      login: 'from-userinfo@rogue.example',
      email: 'from-userinfo@rogue.example',
      emailVerified: true,
    });
    t.notOk('email' in identity.claims, "claims are the ID token's own");
    t.equal(rogue.hits.get('email-from-userinfo/userinfo'), 1);

    const other = await loginThrough('email-from-userinfo-other-sub');
    t.equal(
      other.error,
      'invalid_id_token',
      'userinfo for another user is refused even when the broker asked on its own',
    );

    const down = await loginThrough('email-userinfo-down');
    t.ok(down.ticket, 'userinfo unreachable: the ID token alone still names the user');
    t.match((await redeem(broker, tenants.get('email-userinfo-down')!.app, down.ticket)).body, {
      login: 'rogue-login',
      emailVerified: null,
    });
    t.notOk(rogue.hits.get('good/userinfo'), 'an ID token with an email: no userinfo call');

    await broker.admin('PATCH', `/admin/connections/${tenants.get('email-userinfo-down')!.connectionId}`, {
      fetchUserinfo: true,
    });
    const required = await loginThrough('email-userinfo-down');
    t.equal(
      required.error,
      'token_exchange_failed',
      'when the connection asks for userinfo, an unreachable userinfo fails the login',
    );
  },
);

t.test('signature rules hold on the cached-key path too (after a good login has cached the keys)', async (t) => {
  forgery = undefined;
  t.ok((await loginThrough('forger')).ticket, 'a good login caches the IdP keys');
  const forgeries: [string, NonNullable<Behaviour['idToken']>][] = [
    ['alg none', (claims) => handMadeJws({ alg: 'none' }, claims, () => '')],
    [
      'HS256 keyed with the public key',
      (claims, ctx) => {
        const pem = createPublicKey({ key: ctx.keys.current.publicJwk as never, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        return handMadeJws({ alg: 'HS256', kid: ctx.keys.current.kid }, claims, (input) =>
          createHmac('sha256', pem).update(input).digest(),
        );
      },
    ],
    [
      'a flipped signature bit',
      async (claims, ctx) => {
        const [h, p, sig] = (await rs256(claims, ctx.keys.current)).split('.');
        const bytes = Buffer.from(sig!, 'base64url');
        bytes[0]! ^= 0x01;
        return `${h}.${p}.${bytes.toString('base64url')}`;
      },
    ],
    ['another key under the cached kid', (claims, ctx) => rs256(claims, ctx.keys.other, { kid: ctx.keys.current.kid })],
    ['another key without kid', (claims, ctx) => rs256(claims, ctx.keys.other, { kid: undefined })],
    [
      'claims swapped under a valid signature',
      async (claims, ctx) => {
        const [h, , sig] = (await rs256({ ...claims, sub: 'someone-else' }, ctx.keys.current)).split('.');
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      },
    ],
    [
      'an unknown critical header',
      (claims, ctx) =>
        handMadeJws(
          { alg: 'RS256', kid: ctx.keys.current.kid, crit: ['x-unknown'], 'x-unknown': true },
          claims,
          (input) => sign('sha256', Buffer.from(input), ctx.keys.current.privateKey),
        ),
    ],
  ];
  for (const [name, forge] of forgeries) {
    forgery = forge;
    t.equal((await loginThrough('forger')).error, 'invalid_id_token', name);
  }
  forgery = undefined;
  t.ok((await loginThrough('forger')).ticket, 'and the genuine tokens still pass');
});

t.test('after all of that, the broker still serves the well-behaved provider', async (t) => {
  t.ok((await loginThrough('good')).ticket);
});
