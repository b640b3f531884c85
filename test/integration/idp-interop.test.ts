import { X509Certificate, createHash } from 'node:crypto';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import t from 'tap';
import type { Dispatcher } from 'undici';
import { generateBrokerKey, selfSignedCertificate } from '../../src/config/generate-broker-key.js';
import { startBroker } from '../helpers/broker.js';
import { rs256, startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant, verifyDomains } from '../helpers/scenario.js';

// The IdPs tenants run, each reproduced on a local provider by its discovery document, its
// client authentication at the token endpoint, its ID token and userinfo shapes — and the
// connection settings the README's guide for it gives. One test per IdP.

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TID_FABRIKAM = 'b3c4d5e6-f7a8-49b0-8c1d-2e3f4a5b6c7d';
const CLIENT_ID = 'rogue-client';

// IdPs with an issuer of their own (Google, Entra ID) are configured exactly as in production
// (https issuer, discovery on the issuer's origin, as contract v2 requires). Their requests are
// routed, inside the broker's IdP transport, to the local provider that stands in for them:
// each real origin to the rogue IdP behaviour named here (set per login by loginAndRedeem). The
// network policy still checks where the request really goes (loopback, allowed in tests).
const REAL_ORIGINS = ['https://login.microsoftonline.com', 'https://accounts.google.com', 'https://sts.windows.net'];
const routes = new Map<string, string>();
const toLocalStandIn: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const behaviour = routes.get(new URL(String(options.origin)).origin);
  if (behaviour === undefined) return dispatch(options, handler);
  return dispatch({ ...options, origin: rogue.base, path: `/${behaviour}${options.path}` }, handler);
};
const broker = await startBroker(t, {}, { idpInterceptors: [toLocalStandIn] });

type Ctx = { issuer: string; tokenEndpoint: string };
type Claims = Record<string, unknown>;

/** The ID token an IdP makes: its own claims plus the protocol ones (iss, aud, nonce, times). */
const idTokenClaims = (iss: (issuer: string) => string, claims: Claims, extra?: (c: Claims) => Claims) => ({
  claims: (c: Claims, ctx: { issuer: string; clientId: string; nonce: string }) => ({
    iss: iss(ctx.issuer),
    aud: ctx.clientId,
    exp: c.exp,
    iat: c.iat,
    nonce: ctx.nonce,
    ...claims,
    ...extra?.(c),
  }),
});

/** Token endpoint: client_secret_post with the registered secret, nothing else. */
const secretPost = (form: URLSearchParams) => {
  if (form.get('client_assertion')) return 'this client authenticates with a client secret';
  if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== rogue.clientSecret)
    return 'wrong client credentials';
  return undefined;
};

/**
 * Token endpoint: private_key_jwt (RFC 7523) against the keys the IdP engineer registered
 * (the broker's JWKS or its certificates), found by `kid` or — as Entra ID does — by
 * certificate thumbprint; `aud` must be exactly what this IdP wants, as one string.
 */
function privateKeyJwt(options: {
  lookup: 'kid' | 'x5t#S256';
  audience: (ctx: Ctx) => string;
  headers: Record<string, unknown>[];
}) {
  return async (form: URLSearchParams, ctx: Ctx) => {
    if (form.get('client_secret')) return 'this client authenticates with private_key_jwt';
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      return 'no client assertion';
    const assertion = form.get('client_assertion') ?? '';
    const header = decodeProtectedHeader(assertion);
    options.headers.push(header);
    const registered = broker.keys
      .jwks()
      .keys.find((key) => (options.lookup === 'kid' ? key.kid === header.kid : key['x5t#S256'] === header['x5t#S256']));
    if (!registered) return `no registered key matches the assertion's ${options.lookup}`;
    try {
      const { payload } = await jwtVerify(
        assertion,
        await importJWK({ kty: 'RSA', n: registered.n, e: registered.e }, 'RS256'),
        {
          algorithms: ['RS256'],
          issuer: CLIENT_ID,
          subject: CLIENT_ID,
          audience: options.audience(ctx),
          maxTokenAge: 300,
        },
      );
      if (typeof payload.aud !== 'string') return 'aud must be one string';
      if (typeof payload.jti !== 'string') return 'no jti';
    } catch (error) {
      return `assertion refused: ${(error as Error).message}`;
    }
    return undefined;
  };
}

const entraHeaders: Claims[] = [];
const oktaHeaders: Claims[] = [];
const auth0Headers: Claims[] = [];
const keycloakHeaders: Claims[] = [];
// Assigned once the rogue IdP has started (below); read by behaviours written before it.
// eslint-disable-next-line prefer-const
let rogueCertificate: X509Certificate | undefined;
const entraIssuer = 'https://login.microsoftonline.com/{tenantid}/v2.0';

// Entra ID v2, multi-tenant app: discovered at /organizations/v2.0 with a {tenantid} issuer;
// no PKCE methods advertised; keys carry x5t/x5c; client keys found by certificate
// thumbprint; the ID token has tid and oid, a pairwise sub, roles, and no email unless
// configured (Graph's userinfo has it).
const entraV2 = (tid: string): Behaviour => ({
  basePath: 'organizations/v2.0',
  discovery: (doc) => {
    const { code_challenge_methods_supported: _, ...rest } = doc;
    return {
      ...rest,
      issuer: entraIssuer,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'oid',
        'email',
      ],
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
    };
  },
  jwks: (keys) => ({
    keys: [
      {
        ...keys.current.publicJwk,
        x5t: createHash('sha1').update(rogueCertificate!.raw).digest('base64url'),
        x5c: [rogueCertificate!.raw.toString('base64')],
        issuer: entraIssuer,
      },
    ],
  }),
  ...idTokenClaims(() => `https://login.microsoftonline.com/${tid}/v2.0`, {
    ver: '2.0',
    tid,
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    preferred_username: 'ada@contoso.example',
    name: 'Ada Lovelace',
    roles: ['Course.Author', 'Learner'],
    groups: ['9f5b6b5a-5c51-4ae5-8fc7-4e6b4f5a0c1d'],
    aio: 'AXQAi/8UAAAA',
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
  }),
  idToken: (claims, ctx) =>
    rs256(claims, ctx.keys.current, {
      typ: 'JWT',
      x5t: createHash('sha1').update(rogueCertificate!.raw).digest('base64url'),
    }),
  userinfo: () => ({
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    name: 'Ada Lovelace',
    email: 'ada.lovelace@contoso.example',
  }),
  clientAuth: privateKeyJwt({ lookup: 'x5t#S256', audience: (ctx) => ctx.tokenEndpoint, headers: entraHeaders }),
});

const rogue = await startRogueIdp(t, {
  'entra-v2': entraV2(TID),
  // Another organisation's Entra tenant, whose user happens to have the same oid.
  'entra-v2-fabrikam': entraV2(TID_FABRIKAM),

  // Okta, custom authorization server: the issuer is /oauth2/default and discovery lives
  // under it; private_key_jwt with aud = the token endpoint, keys by kid from the broker's
  // JWKS URL; the user id is Okta's; groups come with the groups scope.
  okta: {
    basePath: 'oauth2/default',
    discovery: (doc) => ({
      ...doc,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
        'none',
      ],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'groups'],
    }),
    ...idTokenClaims((issuer) => issuer, {
      ver: 1,
      sub: '00u1a2b3c4DEFGHIJ5d7',
      email: 'ada@acme.example',
      email_verified: true,
      name: 'Ada Lovelace',
      preferred_username: 'ada@acme.example',
      groups: ['Everyone', 'Teachers'],
      amr: ['pwd'],
      idp: '00o1a2b3c4DEFGHIJ5d7',
      auth_time: Math.floor(Date.now() / 1000),
    }),
    clientAuth: privateKeyJwt({ lookup: 'kid', audience: (ctx) => ctx.tokenEndpoint, headers: oktaHeaders }),
  },

  // Google Workspace: the issuer is https://accounts.google.com; client secrets only (no
  // private_key_jwt); azp = aud = client id; hd names the Workspace domain.
  google: {
    discovery: (doc) => ({
      ...doc,
      issuer: 'https://accounts.google.com',
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      code_challenge_methods_supported: ['plain', 'S256'],
      response_types_supported: [
        'code',
        'token',
        'id_token',
        'code token',
        'code id_token',
        'token id_token',
        'code token id_token',
        'none',
      ],
    }),
    ...idTokenClaims(
      () => 'https://accounts.google.com',
      {
        sub: '110169484474386276334',
        hd: 'rogue.example',
        email: 'ada@rogue.example',
        email_verified: true,
        name: 'Ada Lovelace',
        given_name: 'Ada',
        family_name: 'Lovelace',
        locale: 'en-GB',
      },
      () => ({ azp: CLIENT_ID, at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }),
    ),
    clientAuth: secretPost,
  },
  // A consumer Google account (no hd) signing in where a tenant expects its own domain.
  'google-gmail': {
    discovery: (doc) => ({
      ...doc,
      issuer: 'https://accounts.google.com',
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    }),
    ...idTokenClaims(
      () => 'https://accounts.google.com',
      { sub: '110169484474386276335', email: 'ada@gmail.com', email_verified: true },
      () => ({ azp: CLIENT_ID }),
    ),
    clientAuth: secretPost,
  },

  // Auth0: the issuer ends with "/"; private_key_jwt wants aud = that issuer; custom claims
  // are namespaced URLs; database users often have email_verified false.
  auth0: {
    discovery: (doc) => ({
      ...doc,
      issuer: `${doc.issuer}/`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    }),
    ...idTokenClaims((issuer) => `${issuer}/`, {
      sub: 'auth0|5f7c8ec7c33c6c004bbafe82',
      email: 'ada@acme.example',
      email_verified: false,
      nickname: 'ada',
      name: 'ada@acme.example',
      'https://lms.example/roles': ['instructor'],
      sid: 'fy3a7mSb4Z0AXPmAWNnv',
    }),
    clientAuth: privateKeyJwt({ lookup: 'kid', audience: (ctx) => `${ctx.issuer}/`, headers: auth0Headers }),
  },

  // Keycloak: the realm is in the issuer; "Signed JWT" client authentication by kid from the
  // JWKS URL; realm roles under realm_access.roles; a username that is not an email.
  keycloak: {
    basePath: 'realms/acme',
    discovery: (doc) => ({
      ...doc,
      token_endpoint_auth_methods_supported: [
        'private_key_jwt',
        'client_secret_basic',
        'client_secret_post',
        'tls_client_auth',
        'client_secret_jwt',
      ],
      code_challenge_methods_supported: ['plain', 'S256'],
    }),
    ...idTokenClaims((issuer) => issuer, {
      sub: 'f:2c5f3b8e-6d0a-4e0f-9b1c-7a4d5e6f7a8b',
      typ: 'ID',
      azp: CLIENT_ID,
      sid: '6f0c5d0e-1d2b-4c5a-8e7f-9a0b1c2d3e4f',
      acr: '1',
      email: 'ada@acme.example',
      email_verified: false,
      preferred_username: 'ada',
      given_name: 'Ada',
      family_name: 'Lovelace',
      realm_access: { roles: ['offline_access', 'teacher'] },
      resource_access: { [CLIENT_ID]: { roles: ['course-editor'] } },
    }),
    clientAuth: privateKeyJwt({ lookup: 'kid', audience: (ctx) => ctx.tokenEndpoint, headers: keycloakHeaders }),
  },

  // PingOne: the issuer is /<environment id>/as; the ID token names the user only by sub —
  // email and groups come from userinfo.
  ping: {
    basePath: '0a7f1b2c-3d4e-5f60-7182-93a4b5c6d7e8/as',
    discovery: (doc) => ({
      ...doc,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
        'none',
      ],
    }),
    ...idTokenClaims((issuer) => issuer, {
      sub: '5a8d2f3e-1b4c-4d5e-8f9a-0b1c2d3e4f5a',
      env: '0a7f1b2c-3d4e-5f60-7182-93a4b5c6d7e8',
      org: 'd1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a',
      'p1.region': 'EU',
      auth_time: Math.floor(Date.now() / 1000),
    }),
    userinfo: () => ({
      sub: '5a8d2f3e-1b4c-4d5e-8f9a-0b1c2d3e4f5a',
      email: 'ada@acme.example',
      email_verified: true,
      given_name: 'Ada',
      family_name: 'Lovelace',
      memberOf: ['Teachers'],
    }),
    clientAuth: secretPost,
  },

  // OneLogin: the issuer is /oidc/2; the user id is numeric; groups with the groups scope.
  onelogin: {
    basePath: 'oidc/2',
    discovery: (doc) => ({
      ...doc,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    }),
    ...idTokenClaims((issuer) => issuer, {
      sub: '123456789',
      email: 'ada@acme.example',
      preferred_username: 'ada@acme.example',
      name: 'Ada Lovelace',
      groups: ['Teachers'],
      sid: 'a1b2c3d4',
    }),
    clientAuth: secretPost,
  },

  // Entra ID v1 endpoints: issuer https://sts.windows.net/{tenantid}/ (with its slash),
  // discovered at /organizations on the issuer's origin.
  'entra-v1': {
    basePath: 'organizations',
    discovery: (doc) => ({ ...doc, issuer: 'https://sts.windows.net/{tenantid}/' }),
    ...idTokenClaims(() => `https://sts.windows.net/${TID}/`, {
      tid: TID,
      oid: 'entra-oid-1',
      sub: 'pairwise-sub-v1',
      upn: 'ada@contoso.example',
      unique_name: 'ada@contoso.example',
      preferred_username: 'ada@contoso.example',
      ver: '1.0',
    }),
    userinfo: () => ({ sub: 'pairwise-sub-v1' }),
    clientAuth: secretPost,
  },
} satisfies Record<string, Behaviour>);
rogueCertificate = new X509Certificate(
  await selfSignedCertificate(rogue.keys.current.privateKey, {
    commonName: 'login.microsoftonline.com',
    days: 30,
  }),
);

/** Registers the tenant, runs the handoff report and one login, and redeems the ticket. */
async function loginAndRedeem(
  slug: string,
  name: string,
  options: { issuer?: string; connection?: Claims; tenant?: Claims } = {},
) {
  routeRealIssuer(options.issuer, name);
  const registered = await registerAutoLoginTenant(broker, {
    slug,
    issuer: options.issuer ?? rogue.issuer(name),
    clientSecret: rogue.clientSecret,
    connection: options.connection ?? {},
  });
  if (options.tenant) {
    const patched = await broker.admin('PATCH', `/admin/tenants/${slug}`, options.tenant);
    if (patched.status !== 200) throw new Error(`tenant ${slug}: ${patched.status} ${JSON.stringify(patched.body)}`);
    await verifyDomains(broker, slug, (options.tenant.domains as string[] | undefined) ?? []);
  }
  const report = (await broker.admin('POST', `/admin/connections/${registered.connectionId}/validate`)).body as {
    ok: boolean;
    checks: { id: string; ok: boolean; message: string }[];
  };
  const { ticket, error } = await registered.login();
  const answer = ticket ? (await redeem(broker, registered.app, ticket)).body : undefined;
  return { error, answer, report, connectionId: registered.connectionId };
}

/** A real IdP's issuer is served, from now on, by behaviour `name` (discovery is cached per connection). */
function routeRealIssuer(issuer: string | undefined, name: string): void {
  const origin = issuer && new URL(issuer.replaceAll('{tenantid}', 'tenant')).origin;
  if (origin && REAL_ORIGINS.includes(origin)) routes.set(origin, name);
}

const privateKeyJwtConnection = { tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: undefined };
const failed = (report: { checks: { id: string; ok: boolean }[] }) =>
  report.checks.filter((c) => !c.ok).map((c) => c.id);

t.test(
  'Entra ID v2 multi-tenant: {tenantid} issuer; certificate thumbprint; oid; roles; email from Graph userinfo',
  async (t) => {
    const { answer, report, error } = await loginAndRedeem('entra-v2', 'entra-v2', {
      issuer: entraIssuer,
      connection: {
        ...privateKeyJwtConnection,
        allowedTenantIds: [TID],
        subjectClaim: 'oid',
        claimMapping: { groups: 'roles' },
      },
    });
    t.same(failed(report), [], 'the handoff report passes (no PKCE methods advertised is fine)');
    t.equal(error, null);
    t.match(answer, {
      issuer: `https://login.microsoftonline.com/${TID}/v2.0`,
      subject: '00000000-0000-0000-66f3-3332eca7ea81',
      login: 'ada.lovelace@contoso.example',
      email: 'ada.lovelace@contoso.example',
      emailVerified: null,
      groups: ['Course.Author', 'Learner'],
      claims: { tid: TID, preferred_username: 'ada@contoso.example' },
    });
    const key = broker.keys.keys.get('test-key-1')!;
    t.match(
      entraHeaders.at(-1),
      { alg: 'RS256', kid: 'test-key-1', 'x5t#S256': key.x5tS256, x5t: key.x5t },
      'the key named by its certificate thumbprint',
    );
  },
);

t.test('Entra ID: a key without a certificate has no thumbprint, and Entra refuses the assertion', async (t) => {
  const keyless = await startBroker(
    t,
    {},
    {
      idpInterceptors: [toLocalStandIn],
      prepareKeys: async (dir) => void (await generateBrokerKey(dir, { kid: 'test-key-1', certificateDays: 0 })),
    },
  );
  routeRealIssuer(entraIssuer, 'entra-v2');
  t.equal(keyless.keys.keys.get('test-key-1')!.x5tS256, undefined);
  const registered = await registerAutoLoginTenant(keyless, {
    slug: 'entra-no-cert',
    issuer: entraIssuer,
    clientSecret: rogue.clientSecret,
    connection: { ...privateKeyJwtConnection, allowedTenantIds: [TID], subjectClaim: 'oid' },
  });
  t.equal((await registered.login()).error, 'token_exchange_failed');
  t.notOk('x5t#S256' in entraHeaders.at(-1)!);
});

t.test('Okta: custom authorization server issuer, default discovery URL; private_key_jwt by kid; groups', async (t) => {
  const { answer, report, error } = await loginAndRedeem('okta', 'okta', {
    connection: { ...privateKeyJwtConnection, scopes: ['groups'] },
  });
  t.same(failed(report), []);
  t.equal(error, null);
  t.match(answer, {
    issuer: `${rogue.base}/okta/oauth2/default`,
    subject: '00u1a2b3c4DEFGHIJ5d7',
    login: 'ada@acme.example',
    emailVerified: true,
    groups: ['Everyone', 'Teachers'],
  });
  t.match(oktaHeaders.at(-1), { kid: 'test-key-1' });
  t.equal(rogue.hits.get('okta/userinfo'), undefined, 'the ID token has the email: no userinfo call');
});

t.test(
  'Google Workspace: accounts.google.com; client_secret_post; names; a tenant restricted to its domain',
  async (t) => {
    const ok = await loginAndRedeem('google', 'google', {
      issuer: 'https://accounts.google.com',
      tenant: { domains: ['rogue.example'], restrictToDomains: true },
    });
    t.same(failed(ok.report), []);
    t.match(ok.answer, {
      issuer: 'https://accounts.google.com',
      subject: '110169484474386276334',
      emailVerified: true,
      name: 'Ada Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
      claims: { hd: 'rogue.example' },
    });
    const gmail = await loginAndRedeem('google-gmail', 'google-gmail', {
      issuer: 'https://accounts.google.com',
      tenant: { domains: ['school.example'], restrictToDomains: true },
    });
    t.equal(gmail.error, 'domain_not_allowed', 'a consumer account is refused by a restricted tenant');

    const pkjwt = await loginAndRedeem('google-pkjwt', 'google', {
      issuer: 'https://accounts.google.com',
      connection: { ...privateKeyJwtConnection },
    });
    t.same(failed(pkjwt.report), ['auth_method_supported'], 'the report says Google does not take private_key_jwt');
    t.equal(pkjwt.error, 'idp_error', 'and the login refuses what the report flags, before the learner signs in');
  },
);

t.test(
  'Auth0: the issuer ends with a slash (exact); private_key_jwt with aud = issuer; namespaced roles',
  async (t) => {
    const issuer = `${rogue.issuer('auth0')}/`;
    const tokenAudience = await loginAndRedeem('auth0-token-aud', 'auth0', {
      issuer,
      connection: privateKeyJwtConnection,
    });
    t.equal(tokenAudience.error, 'token_exchange_failed', 'Auth0 refuses aud = token endpoint');
    t.equal(auth0Headers.length, 1);

    const { answer, report, error } = await loginAndRedeem('auth0', 'auth0', {
      issuer,
      connection: {
        ...privateKeyJwtConnection,
        assertionAudience: 'issuer',
        claimMapping: { groups: 'https://lms.example/roles' },
      },
    });
    t.same(failed(report), []);
    t.equal(error, null);
    t.match(answer, {
      issuer,
      subject: 'auth0|5f7c8ec7c33c6c004bbafe82',
      emailVerified: false,
      groups: ['instructor'],
    });

    const noSlash = await loginAndRedeem('auth0-no-slash', 'auth0', {
      issuer: rogue.issuer('auth0'),
      connection: { ...privateKeyJwtConnection, assertionAudience: 'issuer' },
    });
    t.equal(noSlash.error, 'idp_error', 'configured without the slash: refused, not normalised');
    t.match(
      noSlash.report.checks.find((c) => c.id === 'issuer_match'),
      { ok: false, message: /"http:\/\/127\.0\.0\.1:\d+\/auth0\/".*"http:\/\/127\.0\.0\.1:\d+\/auth0"/ },
      'the report shows both issuers',
    );
  },
);

t.test(
  'Keycloak: realm issuer, default discovery URL; signed JWT by kid; realm roles; username not an email',
  async (t) => {
    const { answer, report, error } = await loginAndRedeem('keycloak', 'keycloak', {
      connection: { ...privateKeyJwtConnection, claimMapping: { groups: 'realm_access.roles' } },
    });
    t.same(failed(report), []);
    t.equal(error, null);
    t.match(answer, {
      issuer: `${rogue.base}/keycloak/realms/acme`,
      subject: 'f:2c5f3b8e-6d0a-4e0f-9b1c-7a4d5e6f7a8b',
      login: 'ada@acme.example',
      emailVerified: false,
      givenName: 'Ada',
      groups: ['offline_access', 'teacher'],
      claims: { preferred_username: 'ada' },
    });
    t.match(keycloakHeaders.at(-1), { kid: 'test-key-1' });

    const clientRoles = await loginAndRedeem('keycloak-client-roles', 'keycloak', {
      connection: { ...privateKeyJwtConnection, claimMapping: { groups: `resource_access.${CLIENT_ID}.roles` } },
    });
    t.match(clientRoles.answer, { groups: ['course-editor'] }, 'client roles: a dot path through the client id');
    const secret = await loginAndRedeem('keycloak-secret', 'keycloak');
    t.equal(secret.error, 'token_exchange_failed', 'this Keycloak client is set to Signed JWT: a secret is refused');
  },
);

t.test('Ping Identity (PingOne): /<env>/as issuer; email and groups only from userinfo', async (t) => {
  const { answer, report, error } = await loginAndRedeem('ping', 'ping', {
    connection: { claimMapping: { groups: 'memberOf' } },
  });
  t.same(failed(report), []);
  t.equal(error, null);
  t.match(answer, {
    subject: '5a8d2f3e-1b4c-4d5e-8f9a-0b1c2d3e4f5a',
    login: 'ada@acme.example',
    emailVerified: true,
    givenName: 'Ada',
    groups: ['Teachers'],
  });
  t.equal(rogue.hits.get('ping/userinfo'), 1, 'userinfo asked because the ID token has no email');
});

t.test('OneLogin: /oidc/2 issuer; numeric user id; groups', async (t) => {
  const { answer, report, error } = await loginAndRedeem('onelogin', 'onelogin', {
    connection: { scopes: ['groups'] },
  });
  t.same(failed(report), []);
  t.equal(error, null);
  t.match(answer, {
    issuer: `${rogue.base}/onelogin/oidc/2`,
    subject: '123456789',
    login: 'ada@acme.example',
    emailVerified: null,
    groups: ['Teachers'],
  });
});

t.test('Entra ID v1 (sts.windows.net) multi-tenant: oid as subject, preferred_username as login', async (t) => {
  const { answer, report, error } = await loginAndRedeem('entra-v1', 'entra-v1', {
    issuer: 'https://sts.windows.net/{tenantid}/',
    connection: { allowedTenantIds: [TID], subjectClaim: 'oid' },
  });
  t.same(failed(report), []);
  t.equal(error, null);
  t.match(answer, {
    issuer: `https://sts.windows.net/${TID}/`,
    subject: 'entra-oid-1',
    login: 'ada@contoso.example',
    emailVerified: null,
  });
  t.notOk('email' in answer);
});

t.test('identity rule: (issuer, subject) is stable across logins and unique across tenants', async (t) => {
  const first = await loginAndRedeem('okta-again', 'okta', { connection: privateKeyJwtConnection });
  const again = await loginAndRedeem('okta-again-2', 'okta', { connection: privateKeyJwtConnection });
  t.same(
    [first.answer.issuer, first.answer.subject],
    [again.answer.issuer, again.answer.subject],
    'the same user twice: the same pair',
  );

  // One multi-tenant Entra connection, two organisations whose users share an oid value: two
  // people, told apart by the issuer, which carries the Entra tenant id (tid + oid).
  const anyTenant = { ...privateKeyJwtConnection, allowedTenantIds: ['*'], subjectClaim: 'oid' };
  const contoso = await loginAndRedeem('entra-contoso', 'entra-v2', {
    issuer: entraIssuer,
    connection: { ...anyTenant },
  });
  const fabrikam = await loginAndRedeem('entra-fabrikam', 'entra-v2-fabrikam', {
    issuer: entraIssuer,
    connection: { ...anyTenant },
  });
  t.equal(contoso.answer.subject, fabrikam.answer.subject, 'the same oid value');
  t.equal(contoso.answer.issuer, `https://login.microsoftonline.com/${TID}/v2.0`);
  t.equal(fabrikam.answer.issuer, `https://login.microsoftonline.com/${TID_FABRIKAM}/v2.0`);
  t.not(contoso.answer.issuer, fabrikam.answer.issuer, 'different issuers: different people');
});
