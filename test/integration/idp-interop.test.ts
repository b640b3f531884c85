import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';

// The IdPs tenants run, each reproduced by its issuer, discovery and claim shapes on a local
// provider: what each one bends, and the connection settings that make it work.

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** A provider that presents `issuer` in discovery and tokens, and sends `claims`. */
const shaped = (issuer: (base: string) => string, claims: Record<string, unknown>, drop: string[] = []): Behaviour => ({
  discovery: (doc) => ({ ...doc, issuer: issuer(String(doc.issuer)) }),
  claims: (c, ctx) => {
    const out: Record<string, unknown> = { ...c, iss: issuer(ctx.issuer).replace('{tenantid}', TID), ...claims };
    for (const name of drop) delete out[name];
    return out;
  },
});

const rogue = await startRogueIdp(t, {
  okta: shaped((b) => `${b}/oauth2/default`, { groups: ['Everyone', 'Teachers'], preferred_username: 'ada@acme.example', email_verified: true }),
  google: shaped(() => 'https://accounts.google.com', { sub: '110169484474386276334', hd: 'acme.example', email_verified: true }),
  'google-gmail': shaped(() => 'https://accounts.google.com', { sub: '110169484474386276335', email: 'ada@gmail.com', email_verified: true }),
  auth0: shaped((b) => `${b}/`, { sub: 'auth0|5f7c8ec7c33c6c004bbafe82' }),
  keycloak: shaped((b) => `${b}/realms/acme`, { realm_access: { roles: ['offline_access', 'teacher'] }, email_verified: false, preferred_username: 'ada' }),
  'entra-v1': shaped(() => 'https://sts.windows.net/{tenantid}/', { tid: TID, oid: 'entra-oid-1', upn: 'ada@contoso.example', preferred_username: 'ada@contoso.example' }, ['email', 'email_verified']),
});
const broker = await startBroker(t);

async function loginAndRedeem(slug: string, name: string, issuer: string, connection: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}) {
  const registered = await registerAutoLoginTenant(broker, {
    slug,
    issuer,
    clientSecret: rogue.clientSecret,
    connection: { discoveryUrl: `${rogue.issuer(name)}/.well-known/openid-configuration`, ...connection },
  });
  if (Object.keys(tenant).length) await broker.admin('PATCH', `/admin/tenants/${slug}`, tenant);
  const { ticket, error } = await registered.login();
  if (!ticket) return { error };
  return { error, answer: (await redeem(broker, registered.app, ticket)).body };
}

t.test('Okta: custom authorization server issuer; groups claim mapped', async (t) => {
  const { answer } = await loginAndRedeem('okta', 'okta', `${rogue.issuer('okta')}/oauth2/default`, { scopes: ['groups'] });
  t.match(answer, { issuer: `${rogue.issuer('okta')}/oauth2/default`, login: 'rogue@rogue.example', emailVerified: true, groups: ['Everyone', 'Teachers'] });
});

t.test('Google Workspace: accounts.google.com issuer; a tenant restricted to its domain refuses other accounts', async (t) => {
  const ok = await loginAndRedeem('google', 'google', 'https://accounts.google.com', {}, { domains: ['rogue.example'], restrictToDomains: true });
  t.match(ok.answer, { issuer: 'https://accounts.google.com', subject: '110169484474386276334', emailVerified: true });
  const gmail = await loginAndRedeem('google-gmail', 'google-gmail', 'https://accounts.google.com', {}, { domains: ['acme.example'], restrictToDomains: true });
  t.equal(gmail.error, 'domain_not_allowed');
});

t.test('Auth0: the issuer ends with a slash, compared exactly', async (t) => {
  const ok = await loginAndRedeem('auth0', 'auth0', `${rogue.issuer('auth0')}/`);
  t.match(ok.answer, { issuer: `${rogue.issuer('auth0')}/`, subject: 'auth0|5f7c8ec7c33c6c004bbafe82' });
  const noSlash = await loginAndRedeem('auth0-no-slash', 'auth0', rogue.issuer('auth0'));
  t.equal(noSlash.error, 'idp_error', 'configured without the slash: refused, not normalised');
});

t.test('Keycloak: realm issuer; realm roles through claimMapping; email_verified false is reported', async (t) => {
  const { answer } = await loginAndRedeem('keycloak', 'keycloak', `${rogue.issuer('keycloak')}/realms/acme`, { claimMapping: { groups: 'realm_access.roles' } });
  t.match(answer, { groups: ['offline_access', 'teacher'], emailVerified: false, claims: { preferred_username: 'ada' } });
});

t.test('Entra ID v1 (sts.windows.net) multi-tenant: oid as subject, preferred_username as login', async (t) => {
  const { answer } = await loginAndRedeem('entra-v1', 'entra-v1', 'https://sts.windows.net/{tenantid}/', { allowedTenantIds: [TID], subjectClaim: 'oid' });
  t.match(answer, { issuer: `https://sts.windows.net/${TID}/`, subject: 'entra-oid-1', login: 'ada@contoso.example', emailVerified: null });
  t.notOk('email' in answer);
});
