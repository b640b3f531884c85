import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';

const broker = await startBroker(t);

t.test('GET /.well-known/jwks.json publishes the public half of every broker key, nothing private', async (t) => {
  const response = await fetch(`${broker.url}/.well-known/jwks.json`);
  t.equal(response.status, 200);
  const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
  t.equal(jwks.keys.length, 1);
  t.match(jwks.keys[0], { kty: 'RSA', kid: 'test-key-1', alg: 'RS256', use: 'sig', n: String, e: 'AQAB' });
  for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
    t.notOk(privatePart in jwks.keys[0]!, `no "${privatePart}"`);
});

t.test('GET /api/sso/setup tells an IdP engineer what to register, as JSON or HTML', async (t) => {
  const json = await fetch(`${broker.url}/api/sso/setup`, { headers: { accept: 'application/json' } });
  t.equal(json.status, 200);
  const doc = (await json.json()) as Record<string, unknown>;
  t.notOk('redirect_uri' in doc, 'no single redirect URI: every connection has its own');
  t.match(doc, {
    redirect_uri_template: `${broker.url}/api/sso/callback/{connection}`,
    jwks_uri: `${broker.url}/.well-known/jwks.json`,
    token_endpoint_auth_methods: ['client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg: 'RS256',
    id_token_signed_response_alg: 'RS256',
    code_challenge_method: 'S256',
    required_id_token_claims: Array,
    post_logout_redirect_uri: `${broker.url}/api/sso/logout/done`,
    signing_keys: [{ kid: 'test-key-1', active: true, public_key_pem: /^-----BEGIN PUBLIC KEY-----/ }],
  });
  const html = await fetch(`${broker.url}/api/sso/setup`, { headers: { accept: 'text/html' } });
  t.match(html.headers.get('content-type'), /text\/html/);
  const page = await html.text();
  t.match(page, `${broker.url}/api/sso/callback/{connection}`);
  t.match(page, 'test-key-1');
  t.match(page, '-----BEGIN PUBLIC KEY-----', 'the public key itself, for IdPs that take a key');
  for (const idp of ['Microsoft Entra ID', 'Okta', 'Google Workspace', 'Auth0', 'Keycloak'])
    t.match(page, `<h3>${idp}</h3>`, `notes for ${idp}`);
  t.match(page, '{tenantid}', 'the Entra multi-tenant issuer');
  t.match(page, 'realm_access.roles', 'Keycloak roles mapping');
  t.match(html.headers.get('content-security-policy'), /default-src 'none'/);
});

t.test(
  "mix-up rule: GET /api/sso/setup?connection=<id> gives that connection's own redirect URI, client id and method, never a secret",
  async (t) => {
    await broker.admin('POST', '/admin/tenants', { slug: 'setup-acme', name: 'Acme' });
    const created = await broker.admin('POST', '/admin/tenants/setup-acme/connections', {
      issuer: 'https://idp.acme.example',
      clientId: 'acme-client',
      clientSecret: 'a-secret-that-must-never-be-shown',
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    t.equal(created.status, 201);
    const redirectUri = `${broker.url}/api/sso/callback/${created.body.id}`;
    t.equal(created.body.redirectUri, redirectUri, 'the connection JSON names its redirect URI');
    t.equal((await broker.admin('GET', `/admin/connections/${created.body.id}`)).body.redirectUri, redirectUri);
    t.equal((await broker.admin('GET', '/admin/tenants/setup-acme/connections')).body[0].redirectUri, redirectUri);

    const json = await fetch(`${broker.url}/api/sso/setup?connection=${created.body.id}`, {
      headers: { accept: 'application/json' },
    });
    t.equal(json.status, 200);
    const text = await json.text();
    t.match(JSON.parse(text), {
      redirect_uri: redirectUri,
      client_id: 'acme-client',
      token_endpoint_auth_method: 'client_secret_post',
      jwks_uri: String,
    });
    t.notMatch(text, 'a-secret-that-must-never-be-shown');
    const page = await (
      await fetch(`${broker.url}/api/sso/setup?connection=${created.body.id}`, { headers: { accept: 'text/html' } })
    ).text();
    t.match(page, redirectUri);
    t.notMatch(page, 'a-secret-that-must-never-be-shown');

    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id', 'x'.repeat(150)]) {
      const missing = await fetch(`${broker.url}/api/sso/setup?connection=${id}`, {
        headers: { accept: 'application/json' },
      });
      t.equal(missing.status, 404, `unknown connection ${id.slice(0, 20)}: 404`);
      t.match(await missing.json(), { error: 'not_found' });
    }
  },
);

t.test('mix-up rule: the bare /api/sso/callback completes nothing and says where the redirect URI is', async (t) => {
  const json = await fetch(`${broker.url}/api/sso/callback?code=c&state=s`, {
    headers: { accept: 'application/json' },
  });
  t.equal(json.status, 400);
  const body = (await json.json()) as { error: string; error_description: string };
  t.equal(body.error, 'callback_mismatch');
  t.match(body.error_description, `${broker.url}/api/sso/callback/<connection id>`);
  t.match(body.error_description, '/api/sso/setup?connection=');
  const page = await fetch(`${broker.url}/api/sso/callback?code=c&state=s`);
  t.equal(page.status, 400);
  t.match(await page.text(), '/api/sso/setup?connection=');
});

t.test(
  "the setup page offers each key's certificate for download (Entra ID registers keys by certificate)",
  async (t) => {
    const key = broker.keys.keys.get('test-key-1')!;
    const doc = (await (
      await fetch(`${broker.url}/api/sso/setup`, { headers: { accept: 'application/json' } })
    ).json()) as any;
    const listed = doc.signing_keys[0];
    t.equal(listed.certificate_url, `${broker.url}/api/sso/setup/keys/test-key-1.crt`);
    t.equal(listed.x5t_s256, key.x5tS256);
    t.equal(listed.x5t, key.x5t);
    t.equal(listed.certificate_not_after, key.certificateNotAfter);

    const download = await fetch(listed.certificate_url);
    t.equal(download.status, 200);
    t.equal(download.headers.get('content-type'), 'application/x-pem-file');
    t.equal(download.headers.get('content-disposition'), 'attachment; filename="test-key-1.crt"');
    const pem = await download.text();
    const certificate = new X509Certificate(pem);
    t.ok(certificate.publicKey.equals(createPublicKey(key.publicKeyPem)), 'the certificate of the published key');
    t.equal(
      createHash('sha256').update(certificate.raw).digest('base64url'),
      key.x5tS256,
      'its thumbprint is the x5t#S256 the broker sends',
    );

    const page = await (await fetch(`${broker.url}/api/sso/setup`, { headers: { accept: 'text/html' } })).text();
    t.match(page, `href="${listed.certificate_url}" download`);
    t.match(
      page,
      createHash('sha1').update(certificate.raw).digest('hex').toUpperCase(),
      'the SHA-1 thumbprint as Entra ID shows it',
    );

    for (const path of [
      '/api/sso/setup/keys/nope.crt',
      '/api/sso/setup/keys/test-key-1',
      '/api/sso/setup/keys/test-key-1.pem',
      '/api/sso/setup/keys/..%2Ftest-key-1.crt',
    ]) {
      const missing = await fetch(`${broker.url}${path}`, { headers: { accept: 'application/json' } });
      t.equal(missing.status, 404, path);
      t.match(await missing.json(), { error: 'not_found' });
    }
  },
);

t.test('bad input anywhere gets a 4xx with an error code, never a 500', async (t) => {
  const auth = { authorization: `Bearer ${broker.adminToken}` };
  const cases: [string, RequestInit & { path: string }][] = [
    ['repeated query parameters', { path: '/api/sso/login?app=a&app=b&return_to=x&tenant=t' }],
    ['callback without anything', { path: '/api/sso/callback' }],
    ['connection callback without anything', { path: '/api/sso/callback/c1' }],
    ['callback with an array state', { path: '/api/sso/callback/c1?state=a&state=b&code=c' }],
    ['callback with a huge state', { path: `/api/sso/callback/c1?state=${'s'.repeat(5000)}&code=c` }],
    [
      'callback with a bogus cookie',
      { path: '/api/sso/callback/c1?state=abc&code=c', headers: { cookie: 'sso_tx_abc=v1.zz.%%%' } },
    ],
    [
      'callback with a bogus __Host- cookie',
      { path: '/api/sso/callback/c1?state=abc&code=c', headers: { cookie: '__Host-sso_tx_abc=v1.zz.%%%' } },
    ],
    ['callback with an over-long connection', { path: `/api/sso/callback/${'c'.repeat(500)}?state=abc&code=c` }],
    ['setup with an array connection', { path: '/api/sso/setup?connection=a&connection=b' }],
    [
      'redeem with a form body',
      {
        path: '/api/sso/tickets/redeem',
        method: 'POST',
        headers: { authorization: 'Basic YTpi', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'ticket=x',
      },
    ],
    [
      'redeem with broken JSON',
      {
        path: '/api/sso/tickets/redeem',
        method: 'POST',
        headers: { authorization: 'Basic YTpi', 'content-type': 'application/json' },
        body: '{',
      },
    ],
    [
      'redeem with malformed Basic',
      {
        path: '/api/sso/tickets/redeem',
        method: 'POST',
        headers: { authorization: 'Basic !!!', 'content-type': 'application/json' },
        body: '{}',
      },
    ],
    [
      'admin with a JSON array body',
      { path: '/admin/tenants', method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '[]' },
    ],
    [
      'admin with a JSON string body',
      { path: '/admin/tenants', method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '"x"' },
    ],
    [
      'admin with text/plain',
      { path: '/admin/tenants', method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' },
    ],
    ['admin with an over-long id', { path: `/admin/connections/${'x'.repeat(300)}`, headers: auth }],
    [
      'admin PATCH with null',
      {
        path: '/admin/apps/x',
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/json' },
        body: 'null',
      },
    ],
    ['unknown route', { path: '/nope' }],
    ['unsupported method', { path: '/api/sso/tickets/redeem', method: 'PUT' }],
    // Found by the property test: an unknown path with a body Fastify refuses (prototype poisoning).
    [
      'unknown path, __proto__ body',
      {
        path: '/admin/tenants/',
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"__proto__":""}',
      },
    ],
    [
      'unknown path, broken JSON',
      { path: '/nope', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
    ],
  ];
  for (const [what, { path, ...init }] of cases) {
    const response = await fetch(`${broker.url}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
    });
    t.ok(response.status >= 400 && response.status < 500, `${what}: ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    t.match(body.error, /^[a-z_]+$/, `${what}: error code ${body.error}`);
  }
});
