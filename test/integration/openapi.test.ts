import { spawnSync } from 'node:child_process';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import t from 'tap';
import { brokerVersion, packageRoot } from '../../src/config/local.js';
import { buildOpenApiDocument } from '../../src/http/openapi/document.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Contract v3: GET /admin/openapi.json, the OpenAPI 3.1 document of the admin API and the
// relying apps' API, generated from the zod schemas that validate each route.

const ROOT = packageRoot();
const broker = await startBroker(t);
const response = await fetch(`${broker.url}/admin/openapi.json`);
const doc = (await response.json()) as {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
  components: object;
};

t.test('served without auth, as OpenAPI 3.1, and valid against the OpenAPI 3.1 schema', async (t) => {
  t.equal(response.status, 200);
  t.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as never);
  t.same(result.errors, undefined, 'no schema error');
  t.equal(result.valid, true);
});

t.test('the API reference page shows it, from this machine only', async (t) => {
  const page = await fetch(`${broker.url}/admin/reference/`);
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, /swagger-ui/i);
  t.notMatch(html, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no asset from another host');
});

t.test(
  'the document without a broker is the served one, and the demo app’s client types are made from it',
  async (t) => {
    const standalone = await buildOpenApiDocument({ publicUrl: broker.url, version: brokerVersion() });
    t.same(JSON.parse(JSON.stringify(standalone)), doc, 'document.ts builds exactly what the broker serves');
    const check = spawnSync('npm', ['run', '-s', 'openapi:types', '--', '--check'], { cwd: ROOT, encoding: 'utf8' });
    t.equal(check.status, 0, `scripts/demo/broker-api.d.ts is what openapi-typescript makes now ${check.stderr}`);
  },
);

/**
 * The admin and relying-app routes of the broker's API (docs/reference/http-api.md), as
 * "METHOD /path" in OpenAPI's template form. A route added to the API is added here and there.
 */
const API_ROUTES = [
  'DELETE /admin/apps/{id}',
  'DELETE /admin/connections/{id}',
  'DELETE /admin/setup-links/{id}',
  'DELETE /admin/tenants/{slug}',
  'DELETE /admin/tenants/{slug}/domains/{domain}',
  'DELETE /admin/webhooks/{id}',
  'GET /admin/apps',
  'GET /admin/apps/{id}',
  'GET /admin/changes',
  'GET /admin/connections/{id}',
  'GET /admin/connections/{id}/versions',
  'GET /admin/events',
  'GET /admin/expiring',
  'GET /admin/tenants',
  'GET /admin/tenants/{slug}',
  'GET /admin/tenants/{slug}/connections',
  'GET /admin/tenants/{slug}/domains',
  'GET /admin/tenants/{slug}/logins',
  'GET /admin/tenants/{slug}/setup-links',
  'GET /admin/webhooks',
  'GET /admin/webhooks/{id}',
  'GET /admin/webhooks/{id}/deliveries',
  'GET /api/sso/discover',
  'GET /api/sso/logout',
  'PATCH /admin/apps/{id}',
  'PATCH /admin/connections/{id}',
  'PATCH /admin/tenants/{slug}',
  'PATCH /admin/webhooks/{id}',
  'POST /admin/apps',
  'POST /admin/apps/{id}/rotate-secret',
  'POST /admin/connections/{id}/test-login',
  'POST /admin/connections/{id}/validate',
  'POST /admin/connections/{id}/versions',
  'POST /admin/connections/{id}/versions/{n}/activate',
  'POST /admin/connections/{id}/versions/{n}/test-login',
  'POST /admin/connections/{id}/versions/{n}/validate',
  'POST /admin/tenants',
  'POST /admin/tenants/{slug}/connections',
  'POST /admin/tenants/{slug}/domains',
  'POST /admin/tenants/{slug}/domains/{domain}/verify',
  'POST /admin/tenants/{slug}/setup-links',
  'POST /admin/webhooks',
  'POST /admin/webhooks/{id}/deliveries/{event}/retry',
  'POST /admin/webhooks/{id}/rotate-secret',
  'POST /admin/webhooks/{id}/test',
  'POST /api/sso/tickets/redeem',
];

t.test('every admin and relying-app route is in it, and every route it names is served', async (t) => {
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
  t.same(
    API_ROUTES.filter((route) => !documented.has(route)),
    [],
    'none missing',
  );
  t.same(
    [...documented].filter((route) => !API_ROUTES.includes(route)),
    [],
    'and nothing the API does not have',
  );
  for (const route of documented) {
    const [method, path] = route.split(' ') as [string, string];
    const url = path.replace(/\{(\w+)\}/g, ':$1');
    t.ok(broker.app.hasRoute({ method: method as 'GET', url }), `${route} is served`);
  }
});

t.test('real answers match their documented schemas', async (t) => {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  ajv.addFormat('date-time', true).addFormat('uri', true).addFormat('email', true);
  ajv.addSchema({ $id: 'openapi', components: doc.components });
  const check = (method: string, path: string, status: number, body: unknown) => {
    const schema = doc.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
    if (!schema) return t.fail(`no schema for ${method} ${path} ${status}`);
    const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    const validate = ajv.compile(rooted);
    t.ok(validate(body), `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
  };
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  check('get', '/admin/tenants/{slug}', 200, (await broker.admin('GET', `/admin/tenants/${scenario.tenant}`)).body);
  check(
    'get',
    '/admin/connections/{id}',
    200,
    (await broker.admin('GET', `/admin/connections/${scenario.connectionId}`)).body,
  );
  const versions = await broker.admin('GET', `/admin/connections/${scenario.connectionId}/versions`);
  check('get', '/admin/connections/{id}/versions', 200, versions.body);
  check('get', '/admin/apps', 200, (await broker.admin('GET', '/admin/apps')).body);
  check('post', '/admin/tenants', 400, (await broker.admin('POST', '/admin/tenants', { slug: 'Bad Slug' })).body);
  check('get', '/admin/changes', 200, (await broker.admin('GET', '/admin/changes')).body);
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
  const redeemed = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
  check('post', '/api/sso/tickets/redeem', 200, redeemed.body);
  check('post', '/api/sso/tickets/redeem', 400, (await redeem(broker, scenario.app, 'nope')).body);
});
