import fc from 'fast-check';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// The same cases on every run, so that CI is deterministic; PROPERTY_SEED=<n> explores others
// (a failure prints the seed that reproduces it).
fc.configureGlobal({ seed: Number(process.env.PROPERTY_SEED ?? 20_261_207) });

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

/** Every route the broker registered, from Fastify's own tree: routes added later are fuzzed too. */
function registeredRoutes(): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const prefixes: string[] = [];
  for (const line of broker.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const url = (prefixes[depth - 1] ?? '') + (match[2] ?? '');
    prefixes.length = depth;
    prefixes.push(url);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

t.test('every route: junk in its path, query and body (JSON and form) is never a 5xx', async (t) => {
  const routes = registeredRoutes();
  for (const expected of [
    'GET /console/logins',
    'POST /console/connections/:id/versions/:n/activate',
    'GET /api/sso/initiate',
    'POST /setup/:token/draft',
    'DELETE /admin/apps/:id',
    'GET /.well-known/jwks.json',
    'GET /readyz',
    'GET /admin/openapi.json',
  ]) {
    t.ok(
      routes.some((r) => `${r.method} ${r.url}` === expected),
      `found ${expected}`,
    );
  }

  // Its own tenant, connection and app: the tests above may have deleted the first ones.
  const main = await registerTenant(broker, idp, { method: 'client_secret_post' });
  // Credentials, so that the junk reaches the handlers: the admin token, a console session and
  // its CSRF token, a setup link and its CSRF token, an app's Basic credentials.
  const signedIn = await fetch(`${broker.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: broker.adminToken }).toString(),
  });
  const consoleCookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
  const csrfIn = async (url: string, headers: Record<string, string> = {}) =>
    /name="csrf" value="([^"]+)"/.exec(await (await fetch(url, { headers })).text())?.[1] ?? '';
  const consoleCsrf = await csrfIn(`${broker.url}/console`, { cookie: consoleCookie });
  const link = await broker.admin('POST', `/admin/tenants/${main.tenant}/setup-links`, {
    connection: main.connectionId,
  });
  if (link.status !== 201) throw new Error(`setup link: ${link.status} ${JSON.stringify(link.body)}`);
  const setupToken = new URL(link.body.url).pathname.split('/').pop()!;
  const setupCsrf = await csrfIn(link.body.url);
  t.ok(consoleCsrf && setupCsrf, 'signed in to the console, a setup link open');
  // Deletions, revocations and rotations take spare rows (realParam).
  const spare = { slugs: [] as string[], apps: [] as string[], connections: [] as string[], links: [] as string[] };
  for (let i = 0; i < 3; i++) {
    const slug = `spare-${i}`;
    await broker.admin('POST', '/admin/tenants', { slug, name: slug });
    spare.slugs.push(slug);
    const connection = await broker.admin('POST', `/admin/tenants/${slug}/connections`, {
      issuer: idp.issuer,
      clientId: idp.secretClient.clientId,
      clientSecret: idp.secretClient.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    spare.connections.push(connection.body.id);
    spare.apps.push((await broker.admin('POST', '/admin/apps', { name: slug, returnUrls: [main.returnTo] })).body.id);
    spare.links.push((await broker.admin('POST', `/admin/tenants/${slug}/setup-links`, {})).body.id);
  }

  /**
   * A value that names something real for the parameter `name` of `url`: a spare one to delete,
   * revoke or rotate, so that the main ones keep working.
   */
  const realParam = (method: string, url: string, name: string): string => {
    const spend = method === 'DELETE' || /\/(revoke|rotate-secret)$/.test(url);
    const pick = (main: string, spares: string[]) => (spend ? (spares[0] ?? main) : main);
    if (name === 'slug') return pick(main.tenant, spare.slugs);
    if (name === 'token') return setupToken;
    if (name === 'n') return '1';
    if (name === 'file') return `${broker.keys.activeKid}.crt`;
    if (name === 'connection') return main.connectionId;
    if (url.includes('/apps/')) return pick(main.app.id, spare.apps);
    if (url.includes('/setup-links/')) return pick(link.body.id, spare.links);
    if (url.includes('/connections/')) return pick(main.connectionId, spare.connections);
    return 'x';
  };

  const protoKeys = ['__proto__', 'constructor', 'prototype', '__proto__.polluted', 'constructor.prototype'];
  const junk = fc.oneof(
    { weight: 4, arbitrary: nasty },
    { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '%00', 'é', '\u202e', '\ufeff', 'Ω≈ç√') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(4000), '🙂'.repeat(500)) },
    { weight: 1, arbitrary: fc.constantFrom(...protoKeys) },
    // Real values, so that a request gets past its first check now and then.
    { weight: 2, arbitrary: fc.constantFrom(main.app.id, main.tenant, main.returnTo, main.connectionId, idp.issuer) },
  );
  const fieldNames = fc.constantFrom(
    ...protoKeys,
    ...['slug', 'name', 'domains', 'restrictToDomains', 'issuer', 'discoveryUrl', 'clientId', 'clientSecret'],
    ...['tokenEndpointAuthMethod', 'returnUrls', 'tenants', 'ticket', 'token', 'connection', 'idp', 'scopes'],
    ...['clientSecretExpiresAt', 'subjectClaim', 'claimMapping', 'enabled', 'isDefault', 'force', 'expiresInDays'],
    ...['app', 'return_to', 'tenant', 'login_hint', 'state', 'code', 'iss', 'target_link_uri', 'session'],
    ...['post_logout_redirect_uri', 'limit', 'outcome', 'error', 'request', 'resource', 'done', 'x'],
  );
  const scalarOrArray = fc.oneof(
    { weight: 3, arbitrary: junk },
    { weight: 1, arbitrary: fc.array(junk, { minLength: 1, maxLength: 3 }) },
  );
  const fields = fc.dictionary(fieldNames, scalarOrArray, { maxKeys: 5 });
  const body = fc.oneof(
    { weight: 3, arbitrary: fields.map((f) => ({ type: 'form' as const, f })) },
    {
      weight: 3,
      arbitrary: fc.dictionary(fieldNames, fc.oneof(scalarOrArray, jsonish)).map((f) => ({ type: 'json' as const, f })),
    },
    { weight: 1, arbitrary: jsonish.map((f) => ({ type: 'json' as const, f })) },
    { weight: 1, arbitrary: fc.constant({ type: 'json' as const, f: { name: 'y'.repeat(70 * 1024) } }) },
    { weight: 1, arbitrary: fc.constant({ type: 'none' as const, f: {} }) },
  );
  const request = fc.record({
    route: fc.constantFrom(...routes),
    params: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: junk }), {
      minLength: 4,
      maxLength: 4,
    }),
    query: fields,
    body,
    accept: fc.constantFrom('text/html', 'application/json', '*/*', 'x/y;;'),
    authenticated: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  });

  const allowedOrigins = new Set([broker.url, new URL(idp.issuer).origin, new URL(main.returnTo).origin]);
  const registeredOrigin = async (origin: string) => {
    const { rows } = await broker.database.pool.query<{ u: string }>(`SELECT unnest(return_urls) AS u FROM apps`);
    return rows.some((row) => URL.canParse(row.u) && new URL(row.u).origin === origin);
  };
  const started = performance.now();
  let count = 0;
  await fc.assert(
    fc.asyncProperty(request, async ({ route, params, query, body, accept, authenticated }) => {
      count++;
      let index = 0;
      const path = route.url.replace(/:(\w+)|\*/g, (_whole, name: string | undefined) => {
        const value = params[index++] ?? realParam(route.method, route.url, name ?? '*');
        return encodeURIComponent(value);
      });
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) for (const v of [value].flat()) search.append(key, v);
      const headers: Record<string, string> = { accept };
      const posting = route.method !== 'GET' && route.method !== 'HEAD';
      if (authenticated) {
        if (route.url.startsWith('/admin/')) headers.authorization = `Bearer ${broker.adminToken}`;
        if (route.url === '/api/sso/tickets/redeem')
          headers.authorization = `Basic ${Buffer.from(`${main.app.id}:${main.app.secret}`).toString('base64')}`;
        if (route.url.startsWith('/console')) headers.cookie = consoleCookie;
      }
      let payload: string | undefined;
      if (posting && body.type !== 'none') {
        const csrf = route.url.startsWith('/setup/') ? setupCsrf : consoleCsrf;
        const isObject = body.f !== null && typeof body.f === 'object' && !Array.isArray(body.f);
        const sent = authenticated && isObject ? { csrf, ...(body.f as object) } : body.f;
        headers.origin = broker.url;
        if (body.type === 'form') {
          const form = new URLSearchParams();
          for (const [key, value] of Object.entries(sent as Record<string, unknown>))
            for (const v of [value].flat()) form.append(key, String(v));
          headers['content-type'] = 'application/x-www-form-urlencoded';
          payload = form.toString();
        } else {
          headers['content-type'] = 'application/json';
          payload = JSON.stringify(sent);
        }
      }
      const target = `${path}${search.size > 0 ? `?${search}` : ''}`;
      const answer = await call(target, {
        method: route.method,
        headers,
        ...(payload !== undefined && { body: payload }),
      });
      // Past 16 KiB of request line and headers, Node's HTTP parser answers 431 itself, in its
      // own format (no error code), before the broker sees the request; HEAD answers have no body.
      if (route.method === 'HEAD' || target.length > 8192) {
        if (answer.status >= 500) throw new Error(`${route.method} ${target.slice(0, 300)}: ${answer.status}`);
        return;
      }
      try {
        assertClientError(answer);
      } catch (error) {
        // The console's and the setup link's forms say what went wrong in an alert box, without a code.
        const formPage = route.url.startsWith('/console') || route.url.startsWith('/setup/');
        if (!(formPage && answer.status < 500 && answer.text.includes('role="alert"')))
          throw new Error(`${route.method} ${target.slice(0, 300)}: ${(error as Error).message}`, { cause: error });
      }
      if (answer.location && /^https?:/i.test(answer.location)) {
        const origin = new URL(answer.location).origin;
        if (!allowedOrigins.has(origin) && !(await registeredOrigin(origin)))
          throw new Error(`${route.method} ${target.slice(0, 300)}: redirect to ${answer.location}`);
      }
    }),
    { numRuns: Number(process.env.PROPERTY_ROUTE_RUNS ?? 3000) },
  );
  t.comment(`${count} requests over ${routes.length} routes in ${Math.round(performance.now() - started)} ms`);
});
