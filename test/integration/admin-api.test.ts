import t from 'tap';
import { startBroker } from '../helpers/broker.js';

// Contract: Admin API. Bearer ADMIN_TOKEN; 400 invalid_request with details; 404; 409;
// secrets never returned after creation.

const broker = await startBroker(t);

t.test('admin rule: a missing or wrong bearer token gets 401', async (t) => {
  for (const authorization of [
    undefined,
    'Bearer wrong-token',
    `Basic ${broker.adminToken}`,
    `Bearer ${broker.adminToken}x`,
  ]) {
    const response = await fetch(`${broker.url}/admin/tenants`, { headers: authorization ? { authorization } : {} });
    t.equal(response.status, 401, `authorization: ${authorization?.slice(0, 12)}`);
    t.equal(((await response.json()) as { error: string }).error, 'unauthorized');
  }
});

t.test('admin rule: without ADMIN_TOKEN the admin API answers 503', async (t) => {
  const disabled = await startBroker(t, { adminToken: undefined });
  const response = await fetch(`${disabled.url}/admin/tenants`, {
    headers: { authorization: 'Bearer anything-at-all-0123456789-0123456789' },
  });
  t.equal(response.status, 503);
});

t.test('tenants: create, read, list, patch, delete; duplicates 409; unknown 404', async (t) => {
  const created = await broker.admin('POST', '/admin/tenants', {
    slug: 'acme',
    name: 'Acme',
    domains: ['Acme.Example'],
  });
  t.equal(created.status, 201);
  t.match(created.body, { slug: 'acme', name: 'Acme', domains: ['acme.example'], restrictToDomains: false });
  t.equal(
    (await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Again' })).status,
    409,
    'duplicate slug',
  );
  const domainTaken = await broker.admin('POST', '/admin/tenants', {
    slug: 'acme2',
    name: 'Acme 2',
    domains: ['acme.example'],
  });
  t.equal(domainTaken.status, 201, 'an unverified domain may be claimed by several tenants');
  t.equal((await broker.admin('POST', '/admin/tenants/acme/domains/acme.example/verify', { force: true })).status, 200);
  const verifiedTaken = await broker.admin('POST', '/admin/tenants', {
    slug: 'acme3',
    name: 'Acme 3',
    domains: ['acme.example'],
  });
  t.equal(verifiedTaken.status, 409, 'a verified domain belongs to one tenant only');
  t.equal(verifiedTaken.body.error, 'conflict');
  t.same(
    (await broker.admin('GET', '/admin/tenants/acme2')).body.domains,
    [],
    'the first to verify dropped the others',
  );
  t.match((await broker.admin('GET', '/admin/tenants/acme')).body, { slug: 'acme' });
  t.ok((await broker.admin('GET', '/admin/tenants')).body.some((x: { slug: string }) => x.slug === 'acme'));
  const patched = await broker.admin('PATCH', '/admin/tenants/acme', { name: 'Acme Corp', restrictToDomains: true });
  t.match(patched, { status: 200, body: { name: 'Acme Corp', restrictToDomains: true, domains: ['acme.example'] } });
  t.equal((await broker.admin('GET', '/admin/tenants/nope')).status, 404);
  t.equal((await broker.admin('PATCH', '/admin/tenants/nope', { name: 'x' })).status, 404);
  t.equal((await broker.admin('DELETE', '/admin/tenants/nope')).status, 404);
  t.equal((await broker.admin('DELETE', '/admin/tenants/acme')).status, 204);
  t.equal((await broker.admin('GET', '/admin/tenants/acme')).status, 404);
});

t.test('tenants: invalid bodies get 400 invalid_request with details', async (t) => {
  const cases: unknown[] = [
    {},
    { slug: 'Bad Slug', name: 'x' },
    { slug: 'ok', name: '' },
    { slug: 'ok', name: 'x', domains: ['not a domain'] },
    { slug: 'ok', name: 'x', unknownField: true },
    { slug: 'ok', name: 'x', restrictToDomains: 'yes' },
  ];
  for (const body of cases) {
    const answer = await broker.admin('POST', '/admin/tenants', body);
    t.equal(answer.status, 400, JSON.stringify(body));
    t.equal(answer.body.error, 'invalid_request');
    t.ok(Array.isArray(answer.body.details) && answer.body.details.length > 0, 'with details');
  }
  const notJson = await fetch(`${broker.url}/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${broker.adminToken}`, 'content-type': 'application/json' },
    body: '{"slug":',
  });
  t.equal(notJson.status, 400, 'malformed JSON: 400');
  const tooBig = await fetch(`${broker.url}/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${broker.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'big', name: 'x'.repeat(100_000) }),
  });
  t.equal(tooBig.status, 413, 'oversized body: 413');
});

t.test(
  'connections: create with either auth method; the secret is never returned and is encrypted at rest',
  async (t) => {
    await broker.admin('POST', '/admin/tenants', { slug: 'conn-org', name: 'Conn Org' });
    const secret = 'super-secret-client-secret-value';
    const created = await broker.admin('POST', '/admin/tenants/conn-org/connections', {
      issuer: 'https://idp.example.com',
      clientId: 'client-1',
      clientSecret: secret,
      tokenEndpointAuthMethod: 'client_secret_post',
      scopes: ['groups'],
    });
    t.equal(created.status, 201);
    t.match(created.body, {
      id: String,
      tenant: 'conn-org',
      issuer: 'https://idp.example.com',
      discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration',
      hasClientSecret: true,
      isDefault: true,
      enabled: true,
      subjectClaim: 'sub',
      assertionAudience: 'token_endpoint',
    });
    t.notOk(JSON.stringify(created.body).includes(secret), 'no secret in the answer');
    const read = await broker.admin('GET', `/admin/connections/${created.body.id}`);
    t.notOk(JSON.stringify(read.body).includes(secret), 'nor when read');
    const listed = await broker.admin('GET', '/admin/tenants/conn-org/connections');
    t.equal(listed.body.length, 1);
    t.notOk(JSON.stringify(listed.body).includes(secret), 'nor when listed');
    const { rows } = await broker.database.pool.query('SELECT client_secret_enc FROM connections WHERE id = $1', [
      created.body.id,
    ]);
    t.notOk(String(rows[0].client_secret_enc).includes(secret), 'the stored value is ciphertext');
    t.match(rows[0].client_secret_enc, /^v1\./);

    const jwt = await broker.admin('POST', '/admin/tenants/conn-org/connections', {
      issuer: 'https://idp2.example.com/',
      clientId: 'client-2',
      tokenEndpointAuthMethod: 'private_key_jwt',
    });
    t.equal(jwt.status, 201);
    t.equal(jwt.body.isDefault, false, 'the first connection stays the default');
    t.equal(
      jwt.body.discoveryUrl,
      'https://idp2.example.com/.well-known/openid-configuration',
      'a trailing slash is removed before the well-known path',
    );
    const entra = await broker.admin('POST', '/admin/tenants/conn-org/connections', {
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      allowedTenantIds: ['*'],
      clientId: 'client-3',
      tokenEndpointAuthMethod: 'private_key_jwt',
    });
    t.equal(
      entra.body.discoveryUrl,
      'https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration',
      'an issuer template reports the URL actually fetched',
    );

    const makeDefault = await broker.admin('PATCH', `/admin/connections/${jwt.body.id}`, { isDefault: true });
    t.equal(makeDefault.body.isDefault, true);
    t.equal(
      (await broker.admin('GET', `/admin/connections/${created.body.id}`)).body.isDefault,
      false,
      'one default per tenant',
    );

    t.equal((await broker.admin('GET', '/admin/connections/nope')).status, 404);
    t.equal(
      (
        await broker.admin('POST', '/admin/tenants/nope/connections', {
          issuer: 'https://x.example',
          clientId: 'x',
          clientSecret: 'y',
          tokenEndpointAuthMethod: 'client_secret_post',
        })
      ).status,
      404,
    );
    t.equal((await broker.admin('DELETE', `/admin/connections/${jwt.body.id}`)).status, 204);
    t.equal((await broker.admin('DELETE', `/admin/connections/${jwt.body.id}`)).status, 404);
  },
);

t.test('connections: the rules between fields are enforced', async (t) => {
  await broker.admin('POST', '/admin/tenants', { slug: 'rules-org', name: 'Rules' });
  const post = (body: Record<string, unknown>) => broker.admin('POST', '/admin/tenants/rules-org/connections', body);
  const base = { issuer: 'https://idp.example.com', clientId: 'c' };
  const refused: [string, Record<string, unknown>][] = [
    ['client_secret_post without a secret', { ...base, tokenEndpointAuthMethod: 'client_secret_post' }],
    ['private_key_jwt with a secret', { ...base, tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: 's' }],
    ['an unsupported auth method', { ...base, tokenEndpointAuthMethod: 'client_secret_basic', clientSecret: 's' }],
    [
      'http issuer off loopback',
      { ...base, issuer: 'http://idp.example.com', tokenEndpointAuthMethod: 'private_key_jwt' },
    ],
    [
      '{tenantid} without allowedTenantIds',
      {
        ...base,
        issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
        tokenEndpointAuthMethod: 'private_key_jwt',
      },
    ],
    ['an unknown signing key', { ...base, tokenEndpointAuthMethod: 'private_key_jwt', signingKeyId: 'nope' }],
    ['a bad subject claim', { ...base, tokenEndpointAuthMethod: 'private_key_jwt', subjectClaim: 'email' }],
    ['a scope with a space', { ...base, tokenEndpointAuthMethod: 'private_key_jwt', scopes: ['a b'] }],
  ];
  for (const [what, body] of refused) {
    const answer = await post(body);
    t.equal(answer.status, 400, what);
    t.equal(answer.body.error, 'invalid_request');
  }
  const ok = await post({ ...base, tokenEndpointAuthMethod: 'client_secret_post', clientSecret: 's' });
  t.equal(ok.status, 201);
  const switched = await broker.admin('PATCH', `/admin/connections/${ok.body.id}`, {
    tokenEndpointAuthMethod: 'private_key_jwt',
  });
  t.match(
    switched,
    { status: 200, body: { tokenEndpointAuthMethod: 'private_key_jwt', hasClientSecret: false } },
    'switching to private_key_jwt drops the secret',
  );
  const back = await broker.admin('PATCH', `/admin/connections/${ok.body.id}`, {
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  t.equal(back.status, 400, 'switching back needs a secret');
  const withSecret = await broker.admin('PATCH', `/admin/connections/${ok.body.id}`, {
    tokenEndpointAuthMethod: 'client_secret_post',
    clientSecret: 'new',
  });
  t.match(withSecret, { status: 200, body: { hasClientSecret: true } });
});

t.test('apps: the secret is shown once, stored hashed and rotatable; bodies validated', async (t) => {
  await broker.admin('POST', '/admin/tenants', { slug: 'app-org', name: 'App Org' });
  const created = await broker.admin('POST', '/admin/apps', {
    name: 'LMS',
    returnUrls: ['https://lms.example/cb'],
    tenants: ['app-org'],
  });
  t.equal(created.status, 201);
  t.match(created.body, {
    id: String,
    secret: String,
    name: 'LMS',
    returnUrls: ['https://lms.example/cb'],
    tenants: ['app-org'],
  });
  const secret = created.body.secret as string;
  t.ok(Buffer.from(secret, 'base64url').length >= 32, 'the secret has 256 bits');
  const read = await broker.admin('GET', `/admin/apps/${created.body.id}`);
  t.notOk('secret' in read.body, 'never returned again');
  t.notOk(JSON.stringify((await broker.admin('GET', '/admin/apps')).body).includes(secret));
  const { rows } = await broker.database.pool.query('SELECT secret_hash FROM apps WHERE id = $1', [created.body.id]);
  t.not(rows[0].secret_hash, secret, 'stored as a hash');

  const rotated = await broker.admin('POST', `/admin/apps/${created.body.id}/rotate-secret`);
  t.equal(rotated.status, 200);
  t.not(rotated.body.secret, secret);
  t.equal((await broker.admin('POST', '/admin/apps/nope/rotate-secret')).status, 404);

  const open = await broker.admin('POST', '/admin/apps', { name: 'Open', returnUrls: ['http://localhost:8080/cb'] });
  t.equal(open.body.tenants, null, 'no tenants: every tenant');
  const restricted = await broker.admin('PATCH', `/admin/apps/${open.body.id}`, { tenants: ['app-org'] });
  t.same(restricted.body.tenants, ['app-org']);
  const reopened = await broker.admin('PATCH', `/admin/apps/${open.body.id}`, { tenants: null });
  t.equal(reopened.body.tenants, null);

  for (const body of [
    { name: 'x', returnUrls: [] },
    { name: 'x', returnUrls: ['not a url'] },
    { name: 'x', returnUrls: ['http://app.example/cb'] },
    { name: 'x', returnUrls: ['https://user:pw@app.example/cb'] },
    { name: 'x', returnUrls: ['https://app.example/cb#f'] },
    { name: 'x', returnUrls: ['https://app.example/cb'], tenants: ['no-such-tenant'] },
    { returnUrls: ['https://app.example/cb'] },
  ]) {
    const answer = await broker.admin('POST', '/admin/apps', body);
    t.equal(answer.status, 400, JSON.stringify(body));
    t.ok(answer.body.details?.length > 0);
  }
  t.equal((await broker.admin('GET', '/admin/apps/nope')).status, 404);
  t.equal((await broker.admin('DELETE', `/admin/apps/${open.body.id}`)).status, 204);
  t.equal((await broker.admin('DELETE', `/admin/apps/${open.body.id}`)).status, 404);
});
