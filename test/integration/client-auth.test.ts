import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// How the broker authenticates at the token endpoint (RFC 7523 §3, OpenID Connect Core §9).

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const tokenEndpoint = `${idp.issuer}/token`;

t.test(
  'private_key_jwt rule: RS256 with kid (and x5t#S256, x5t of its certificate); iss = sub = client_id; aud = the token endpoint; short-lived; fresh jti',
  async (t) => {
    const scenario = await registerTenant(broker, idp, { method: 'private_key_jwt' });
    const before = idp.assertions.length;
    for (let i = 0; i < 2; i++) {
      const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
      t.ok(back.searchParams.get('ticket'));
    }
    const [first, second] = idp.assertions.slice(before);
    t.ok(first && second, 'two assertions received');
    const key = broker.keys.keys.get('test-key-1')!;
    t.ok(key.x5tS256 && key.x5t, 'the test key has a certificate (keys:generate writes one)');
    t.same(
      first!.header,
      { alg: 'RS256', kid: 'test-key-1', 'x5t#S256': key.x5tS256, x5t: key.x5t },
      'kid, plus the certificate thumbprints',
    );
    t.equal(first!.payload.iss, idp.jwtClient.clientId);
    t.equal(first!.payload.sub, idp.jwtClient.clientId);
    t.equal(first!.payload.aud, tokenEndpoint, 'aud is the token endpoint, a single string');
    const { iat, exp } = first!.payload as { iat: number; exp: number };
    t.ok(exp > iat && exp - iat <= 60, 'exp at most 60 s after iat');
    t.ok(Math.abs(iat - Date.now() / 1000) < 5, 'iat is now');
    t.match(first!.payload.jti, /^.{16,}$/);
    t.not(first!.payload.jti, second!.payload.jti, 'a fresh jti every time');
  },
);

t.test('private_key_jwt: a connection can choose the issuer as the assertion audience', async (t) => {
  const scenario = await registerTenant(broker, idp, {
    method: 'private_key_jwt',
    connection: { assertionAudience: 'issuer' },
  });
  const before = idp.assertions.length;
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  t.ok(back.searchParams.get('ticket'));
  t.equal(idp.assertions[before]!.payload.aud, idp.issuer);
});

t.test('client_secret_post rule: the secret travels only in the form body', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const before = idp.tokenRequests.length;
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  t.ok(back.searchParams.get('ticket'));
  const { form, authorization } = idp.tokenRequests[before]!;
  t.equal(authorization, undefined, 'no Authorization header (that would be client_secret_basic)');
  t.equal(form.get('client_id'), idp.secretClient.clientId);
  t.equal(form.get('client_secret'), idp.secretClient.clientSecret);
  t.equal(form.get('client_assertion'), null);
  t.ok(form.get('code_verifier'), 'the PKCE verifier is sent');
  t.equal(form.get('redirect_uri'), `${broker.config.callbackUrl}/${scenario.connectionId}`);
});
