import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { handMadeJws, rs256, startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// Entra ID multi-tenant: discovery names the issuer `…/{tenantid}/v2.0`; a token is accepted
// only when its iss is that template filled with its own tid, and tid is allowed.

const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = '0d2f3c4b-1111-4a2b-9c3d-5e6f7a8b9c0d';

const entra = (tid: string | undefined, issTenant = tid): Behaviour => ({
  discovery: (doc) => ({ ...doc, issuer: `${doc.issuer}/{tenantid}/v2.0` }),
  claims: (claims, ctx) => {
    const { email: _, ...rest } = claims;
    return {
      ...rest,
      iss: `${ctx.issuer}/${issTenant}/v2.0`,
      ...(tid && { tid }),
      oid: 'entra-object-id-1',
      preferred_username: 'ada@contoso.example',
    };
  },
  // A user without a mail attribute: Graph's userinfo has no email either.
  userinfo: ({ email: _e, email_verified: _v, ...claims }) => claims,
});

const rogue = await startRogueIdp(t, {
  contoso: entra(CONTOSO),
  fabrikam: entra(FABRIKAM),
  'iss-other-tenant': entra(CONTOSO, FABRIKAM),
  'no-tid': entra(undefined, CONTOSO),
  'unfilled-template': entra(CONTOSO, '{tenantid}'),
  'wrong-nonce': {
    ...entra(CONTOSO),
    claims: (claims, ctx) => ({ ...entra(CONTOSO).claims!(claims, ctx), nonce: 'other' }),
  },
  'other-audience': {
    ...entra(CONTOSO),
    claims: (claims, ctx) => ({ ...entra(CONTOSO).claims!(claims, ctx), aud: 'another-client' }),
  },
  'key-not-in-jwks': { ...entra(CONTOSO), idToken: (claims, ctx) => rs256(claims, ctx.keys.other) },
  'alg-none': { ...entra(CONTOSO), idToken: (claims) => handMadeJws({ alg: 'none' }, claims, () => '') },
  'token-error': {
    ...entra(CONTOSO),
    token: (res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
      return true;
    },
  },
});
const broker = await startBroker(t);

async function login(name: string, allowedTenantIds: string[]) {
  const slug = `${name}-${allowedTenantIds.length}-${allowedTenantIds[0]!.slice(0, 4).replace('*', 'any')}`;
  const tenant = await registerAutoLoginTenant(broker, {
    slug,
    issuer: `${rogue.issuer(name)}/{tenantid}/v2.0`,
    clientSecret: rogue.clientSecret,
    connection: {
      discoveryUrl: `${rogue.issuer(name)}/.well-known/openid-configuration`,
      allowedTenantIds,
      subjectClaim: 'oid',
    },
  });
  return { ...(await tenant.login()), app: tenant.app };
}

t.test('issuer template rule: a token from a pinned tenant is accepted, iss = template with its tid', async (t) => {
  const result = await login('contoso', [CONTOSO]);
  t.equal(result.error, null);
  const answer = await redeem(broker, result.app, result.ticket);
  t.equal(answer.status, 200);
  t.equal(answer.body.issuer, `${rogue.issuer('contoso')}/${CONTOSO}/v2.0`, 'the concrete issuer is reported');
  t.equal(answer.body.subject, 'entra-object-id-1', 'oid as the subject');
  t.equal(answer.body.login, 'ada@contoso.example', 'preferred_username as the login');
  t.equal(rogue.hits.get('contoso/token'), 1, 'the code is redeemed at the IdP once');
});

t.test('issuer template rule: every other ID-token check still runs (here: nonce)', async (t) => {
  t.equal((await login('wrong-nonce', [CONTOSO])).error, 'invalid_id_token');
});

t.test('issuer template rule: signature, audience and algorithm are checked as for any IdP', async (t) => {
  t.equal((await login('other-audience', ['*'])).error, 'invalid_id_token', 'aud is another client');
  t.equal((await login('key-not-in-jwks', ['*'])).error, 'invalid_id_token', 'signed by a key the JWKS does not hold');
  t.equal((await login('alg-none', ['*'])).error, 'invalid_id_token', 'alg none');
});

t.test('issuer template rule: an OAuth error from the token endpoint is token_exchange_failed', async (t) => {
  t.equal((await login('token-error', ['*'])).error, 'token_exchange_failed');
  t.equal(rogue.hits.get('token-error/token'), 1, 'asked once, never retried');
});

t.test('issuer template rule: a tenant not pinned is refused; ["*"] accepts any, explicitly', async (t) => {
  t.equal((await login('fabrikam', [CONTOSO])).error, 'invalid_id_token');
  t.ok((await login('fabrikam', ['*'])).ticket);
});

t.test('issuer template rule: iss must be filled with the token’s own tid', async (t) => {
  t.equal((await login('iss-other-tenant', ['*'])).error, 'invalid_id_token', 'iss names another tenant than tid');
  t.equal((await login('no-tid', ['*'])).error, 'invalid_id_token', 'no tid');
  t.equal((await login('unfilled-template', ['*'])).error, 'invalid_id_token', 'the template itself as iss');
});
