import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// RFC 9207 (OAuth 2.0 Authorization Server Issuer Identification), the mix-up defence of
// RFC 9700 §4.4.2 for IdPs that support it: when the authorization response carries `iss`, it
// must be the connection's issuer; an IdP that advertises
// `authorization_response_iss_parameter_supported` must send it. Checked before the code is
// sent anywhere.

const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = '0d2f3c4b-1111-4a2b-9c3d-5e6f7a8b9c0d';

const sendIss =
  (value: (issuer: string) => string | string[]): Behaviour['authorizationResponse'] =>
  (params, { issuer }) => {
    for (const iss of [value(issuer)].flat()) params.append('iss', iss);
  };
const advertised = (doc: Record<string, unknown>) => ({ ...doc, authorization_response_iss_parameter_supported: true });
/** Entra multi-tenant: issuer `<base>/{tenantid}/v2.0`, tokens from CONTOSO. */
const entra = (issTenant: string): Behaviour => ({
  discovery: (doc) => ({ ...doc, issuer: `${doc.issuer}/{tenantid}/v2.0` }),
  claims: (claims, ctx) => ({ ...claims, iss: `${ctx.issuer}/${CONTOSO}/v2.0`, tid: CONTOSO }),
  authorizationResponse: sendIss((issuer) => `${issuer}/${issTenant}/v2.0`),
});

const rogue = await startRogueIdp(t, {
  'sends-own': { authorizationResponse: sendIss((issuer) => issuer) },
  'sends-other': { authorizationResponse: sendIss(() => 'https://victim-idp.example') },
  'sends-slash': { authorizationResponse: sendIss((issuer) => `${issuer}/`) },
  'sends-two': { authorizationResponse: sendIss((issuer) => [issuer, 'https://victim-idp.example']) },
  'advertises-and-sends': { discovery: advertised, authorizationResponse: sendIss((issuer) => issuer) },
  'advertises-and-omits': { discovery: advertised },
  omits: {},
  'entra-contoso': entra(CONTOSO),
  'entra-fabrikam': entra(FABRIKAM),
  'entra-unfilled': entra('{tenantid}'),
});
const broker = await startBroker(t);

async function login(name: string, connection: Record<string, unknown> = {}) {
  const tenant = await registerAutoLoginTenant(broker, {
    slug: `iss-${name}`,
    issuer: connection.issuer === undefined ? rogue.issuer(name) : String(connection.issuer),
    clientSecret: rogue.clientSecret,
    connection,
  });
  return { ...(await tenant.login()), app: tenant.app };
}

for (const [name, expected, rule] of [
  ['sends-own', null, 'iss equal to the connection’s issuer passes'],
  ['omits', null, 'no iss from an IdP that does not advertise it passes (most IdPs today)'],
  ['advertises-and-sends', null, 'an IdP that advertises iss and sends it passes'],
  ['sends-other', 'idp_error', 'iss naming another IdP is refused before the token request'],
  ['sends-slash', 'idp_error', 'iss is compared exactly: a trailing slash is another issuer'],
  ['sends-two', 'idp_error', 'two iss values are refused'],
  ['advertises-and-omits', 'idp_error', 'an IdP that advertises iss must send it'],
] as const) {
  t.test(`iss rule: ${rule}`, async (t) => {
    const result = await login(name);
    t.equal(result.error, expected);
    if (expected === null) t.equal((await redeem(broker, result.app, result.ticket)).status, 200);
    else t.equal(rogue.hits.get(`${name}/token`), undefined, 'the code never reached the token endpoint');
  });
}

for (const [name, expected, rule] of [
  ['entra-contoso', null, 'an Entra {tenantid} issuer: iss filled with an allowed tenant passes'],
  ['entra-fabrikam', 'idp_error', 'an Entra {tenantid} issuer: iss filled with a tenant not allowed is refused'],
  ['entra-unfilled', 'idp_error', 'an Entra {tenantid} issuer: the unfilled template is refused'],
] as const) {
  t.test(`iss rule: ${rule}`, async (t) => {
    const result = await login(name, {
      issuer: `${rogue.issuer(name)}/{tenantid}/v2.0`,
      discoveryUrl: `${rogue.issuer(name)}/.well-known/openid-configuration`,
      allowedTenantIds: [CONTOSO],
    });
    t.equal(result.error, expected);
    if (expected === null)
      t.equal((await redeem(broker, result.app, result.ticket)).body.issuer, `${rogue.issuer(name)}/${CONTOSO}/v2.0`);
    else t.equal(rogue.hits.get(`${name}/token`), undefined, 'the code never reached the token endpoint');
  });
}
