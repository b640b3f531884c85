import fc from 'fast-check';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Bad input rule: whatever a browser, an app or an operator sends, the answer is a 4xx with an
// error code (or a success), never a 5xx, and the database stays consistent.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

// Strings that tend to break things, mixed with arbitrary ones.
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '%',
    '%00',
    '%zz',
    '\\',
    '//evil.example',
    '../..',
    'null',
    '[]',
    '{}',
    '🙂',
    'a'.repeat(3000),
    scenario.returnTo,
    scenario.app.id,
    scenario.tenant,
    scenario.connectionId,
  ),
);
const headerValue = fc.string({ unit: fc.constantFrom(...'abcXYZ019 :;,=+/-_.%"\'!'.split('')), maxLength: 60 });
const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 15 }), fc.jsonValue({ maxDepth: 2 })),
);

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${broker.url}${path}`, { redirect: 'manual', ...init });
  const text = await response.text();
  let body: { error?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // HTML pages carry the code in the page.
  }
  return { status: response.status, location: response.headers.get('location'), body, text };
}

function assertClientError(answer: Awaited<ReturnType<typeof call>>) {
  if (answer.status >= 500) throw new Error(`server error ${answer.status}: ${answer.text.slice(0, 200)}`);
  if (answer.status >= 400 && !(typeof answer.body.error === 'string' && /^[a-z_]+$/.test(answer.body.error))) {
    if (!/Reference: <code>[a-z_]+<\/code>/.test(answer.text))
      throw new Error(`no error code in ${answer.status}: ${answer.text.slice(0, 200)}`);
  }
}

async function tableCounts() {
  const { rows } = await broker.database.pool.query(
    `SELECT (SELECT count(*) FROM tickets)::int AS tickets, (SELECT count(*) FROM tickets WHERE redeemed_at IS NOT NULL)::int AS redeemed`,
  );
  return rows[0];
}

t.test('login, initiate and logout: arbitrary query parameters and headers', async (t) => {
  const before = await tableCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/api/sso/login', '/api/sso/initiate', '/api/sso/logout', '/api/sso/logout/done'),
      fc.dictionary(
        fc.constantFrom(
          'app',
          'return_to',
          'tenant',
          'connection',
          'login_hint',
          'state',
          'iss',
          'target_link_uri',
          'session',
          'post_logout_redirect_uri',
          'x',
        ),
        fc.oneof(nasty, fc.constant(idp.issuer), fc.array(nasty, { maxLength: 3 })),
      ),
      fc.record(
        { accept: headerValue, host: fc.constantFrom('127.0.0.1', 'evil.example', 'a.b.c') },
        { requiredKeys: [] },
      ),
      async (path, params, headers) => {
        const query = new URLSearchParams();
        for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) query.append(key, v);
        const answer = await call(`${path}?${query}`, { headers });
        assertClientError(answer);
        if (answer.status === 302) {
          const location = answer.location ?? '';
          if (!location.startsWith(idp.issuer) && !location.startsWith(scenario.returnTo))
            throw new Error(`redirect to ${location}`);
        }
      },
    ),
    { numRuns: RUNS },
  );
  t.same(await tableCounts(), before, 'no ticket minted or used');
});

t.test('callback: arbitrary query parameters and cookies never yield a ticket or a 5xx', async (t) => {
  const before = await tableCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(
        fc.constantFrom('code', 'state', 'error', 'error_description', 'iss', 'x'),
        fc.oneof(nasty, fc.array(nasty, { maxLength: 2 })),
      ),
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.constant('sso_tx_'),
            fc.constant('__Host-sso_tx_'),
            fc.string({ unit: fc.constantFrom(...'sso_tx_abcXYZ-'.split('')), maxLength: 20 }),
          ),
          headerValue,
        ),
        { maxLength: 3 },
      ),
      async (params, cookies) => {
        const query = new URLSearchParams();
        for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) query.append(key, v);
        const cookie = cookies.map(([name, value]) => `${name}=${value}`).join('; ');
        const answer = await call(`/api/sso/callback/${scenario.connectionId}?${query}`, {
          headers: { accept: 'application/json', ...(cookie && { cookie }) },
        });
        assertClientError(answer);
        if (answer.location?.includes('ticket=')) throw new Error('a ticket from a forged callback');
      },
    ),
    { numRuns: RUNS },
  );
  t.same(await tableCounts(), before);
});

t.test('redeem: arbitrary credentials, content types and bodies', async (t) => {
  const before = await tableCounts();
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        headerValue,
        fc.constant(`Basic ${Buffer.from(`${scenario.app.id}:${scenario.app.secret}`).toString('base64')}`),
        headerValue.map((v) => `Basic ${Buffer.from(v).toString('base64')}`),
      ),
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
        '',
      ),
      fc.oneof(
        jsonish.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 100 }),
        jsonish.map((v) => JSON.stringify({ ticket: v })),
      ),
      async (authorization, contentType, body) => {
        const answer = await call('/api/sso/tickets/redeem', {
          method: 'POST',
          headers: { authorization, ...(contentType && { 'content-type': contentType }) },
          body,
        });
        assertClientError(answer);
        if (answer.status === 200) throw new Error('redeemed a ticket that was never minted');
      },
    ),
    { numRuns: RUNS },
  );
  t.same(await tableCounts(), before);
});

t.test('admin: arbitrary bodies for every write endpoint keep the data consistent', async (t) => {
  const auth = { authorization: `Bearer ${broker.adminToken}`, 'content-type': 'application/json' };
  // Mostly valid bodies with hostile fields mixed in, so the checks past validation run too.
  const field = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.oneof(nasty, jsonish) });
  const slug = fc.stringMatching(/^[a-z0-9]{1,10}$/);
  const tenantBody = fc.record(
    {
      slug: field(slug),
      name: field(fc.string({ minLength: 1, maxLength: 30 })),
      domains: field(
        fc.array(
          slug.map((s) => `${s}.example`),
          { maxLength: 2 },
        ),
      ),
      restrictToDomains: field(fc.boolean()),
    },
    { requiredKeys: ['slug', 'name'] },
  );
  const connectionBody = fc.record(
    {
      issuer: field(
        fc.constantFrom(
          'https://idp.example.com',
          'https://idp.example.com/',
          'http://127.0.0.1:1',
          'https://login.microsoftonline.com/{tenantid}/v2.0',
        ),
      ),
      discoveryUrl: field(fc.constantFrom(null, 'https://idp.example.com/.well-known/openid-configuration')),
      clientId: field(fc.string({ minLength: 1, maxLength: 20 })),
      clientSecret: field(fc.string({ minLength: 1, maxLength: 20 })),
      tokenEndpointAuthMethod: fc.constantFrom('client_secret_post', 'private_key_jwt', 'client_secret_basic'),
      allowedTenantIds: field(fc.constantFrom(['*'], ['72f988bf-86f1-41af-91ab-2d7cd011db47'], [])),
      scopes: field(fc.array(fc.constantFrom('groups', 'offline_access', 'a b'), { maxLength: 2 })),
      subjectClaim: field(fc.constantFrom('sub', 'oid')),
      claimMapping: field(fc.record({ groups: fc.constantFrom('groups', 'realm_access.roles') }, { requiredKeys: [] })),
      isDefault: field(fc.boolean()),
      enabled: field(fc.boolean()),
      signingKeyId: field(fc.constantFrom(null, 'test-key-1', 'missing-key')),
      assertionAudience: field(fc.constantFrom('token_endpoint', 'issuer')),
    },
    { requiredKeys: ['issuer', 'clientId', 'tokenEndpointAuthMethod'] },
  );
  const appBody = fc.record(
    {
      name: field(fc.string({ minLength: 1, maxLength: 30 })),
      returnUrls: field(
        fc.array(fc.constantFrom('https://ok.example/cb', 'http://localhost:9/cb', 'http://evil.example/cb'), {
          minLength: 1,
          maxLength: 3,
        }),
      ),
      tenants: field(fc.constantFrom([scenario.tenant], [], null, ['no-such-tenant'])),
    },
    { requiredKeys: ['name', 'returnUrls'] },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        tenantBody.map((b) => ['POST', '/admin/tenants', b] as const),
        tenantBody.map((b) => ['PATCH', `/admin/tenants/${scenario.tenant}`, b] as const),
        connectionBody.map((b) => ['POST', `/admin/tenants/${scenario.tenant}/connections`, b] as const),
        connectionBody.map((b) => ['PATCH', `/admin/connections/${scenario.connectionId}`, b] as const),
        appBody.map((b) => ['POST', '/admin/apps', b] as const),
        appBody.map((b) => ['PATCH', `/admin/apps/${scenario.app.id}`, b] as const),
        fc.tuple(
          fc.constantFrom('POST', 'PATCH', 'DELETE', 'GET'),
          nasty.map((s) => `/admin/tenants/${encodeURIComponent(s)}`),
          jsonish,
        ),
      ),
      async ([method, path, body]) => {
        const answer = await call(path, {
          method,
          headers: auth,
          ...(method !== 'GET' && { body: JSON.stringify(body) }),
        });
        assertClientError(answer);
      },
    ),
    { numRuns: RUNS * 2 },
  );
  const { rows: broken } = await broker.database.pool.query(`
    SELECT id FROM connections
    WHERE (token_endpoint_auth_method = 'client_secret_post' AND client_secret_enc IS NULL)
       OR (token_endpoint_auth_method = 'private_key_jwt' AND client_secret_enc IS NOT NULL)
       OR token_endpoint_auth_method NOT IN ('client_secret_post', 'private_key_jwt')
       OR (issuer LIKE '%{tenantid}%') <> (cardinality(allowed_tenant_ids) > 0)`);
  t.same(broken, [], 'every stored connection obeys the rules between its fields');
  const { rows: defaults } = await broker.database.pool.query(
    `SELECT tenant_id FROM connections WHERE is_default GROUP BY tenant_id HAVING count(*) > 1`,
  );
  t.same(defaults, [], 'at most one default connection per tenant');
  const { rows: apps } = await broker.database.pool.query(`SELECT id FROM apps WHERE cardinality(return_urls) = 0`);
  t.same(apps, [], 'every app has a return URL');
  const { rows: slugs } = await broker.database.pool.query(
    `SELECT slug FROM tenants WHERE slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`,
  );
  t.same(slugs, [], 'every slug is a DNS label');
});
