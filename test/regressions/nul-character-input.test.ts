import t from 'tap';
import { startBroker } from '../helpers/broker.js';

// Bug (found by bad-input.property.test.ts in CI, seed -986451699): GET /admin/tenants/%00
// answered 500. PostgreSQL refuses a NUL byte in text, and the slug or id went to the database
// as it came. The same held for NUL in admin bodies and in a logout's session.
// Bug (issue 21, finding D): the fix was per route, so a NUL in the console's path parameters
// and filters was still a 500 on 8 routes, and one in an /api/sso/initiate query reached
// PostgreSQL (22021) and was a 500. Now one guard (src/http/nul-characters.ts) refuses a NUL,
// raw or as %00, in any route's path, query or body: 400 invalid_request, in the route's own
// format (a page for browsers, JSON for apps and operators).

const broker = await startBroker(t);
const tenant = await broker.admin('POST', '/admin/tenants', { slug: 'nul-org', name: 'Nul' });
const app = await broker.admin('POST', '/admin/apps', {
  name: 'Nul',
  returnUrls: ['https://nul.example/out'],
  tenants: ['nul-org'],
});
t.equal(tenant.status, 201);

t.test('a NUL byte in an admin path is 400 invalid_request (JSON), never 500', async (t) => {
  for (const path of [
    '/admin/tenants/%00',
    '/admin/tenants/a%00b/logins',
    '/admin/tenants/%00/connections',
    '/admin/connections/%00',
    '/admin/apps/%00',
    '/admin/changes?resource=%00',
  ]) {
    const answer = await broker.admin('GET', path);
    t.same([answer.status, answer.body.error], [400, 'invalid_request'], path);
  }
  for (const path of ['/admin/tenants/%00', '/admin/connections/%00', '/admin/apps/%00']) {
    const answer = await broker.admin('PATCH', path, { name: 'x' });
    t.same([answer.status, answer.body.error], [400, 'invalid_request'], `PATCH ${path}`);
  }
});

t.test('a NUL character in an admin body is 400 invalid_request naming the field, never 500', async (t) => {
  for (const [path, body, field] of [
    ['/admin/tenants', { slug: 'nul-org-2', name: 'a\u0000b' }, 'name'],
    ['/admin/apps', { name: 'a\u0000', returnUrls: ['https://a.example/cb'] }, 'name'],
    ['/admin/apps', { name: 'ok', returnUrls: ['https://a.example/\u0000'] }, 'returnUrls.0'],
  ] as const) {
    const answer = await broker.admin('POST', path, body);
    t.same([answer.status, answer.body.error, answer.body.details?.[0]?.path], [400, 'invalid_request', field], path);
  }
  t.equal((await broker.admin('GET', '/admin/tenants/nul-org-2')).status, 404, 'nothing was written');
});

t.test('browser routes: a NUL in the query is a 400 page (JSON when asked), never 500', async (t) => {
  for (const query of [
    { app: app.body.id, session: 'a\u0000b', post_logout_redirect_uri: 'https://nul.example/out' },
  ]) {
    const logout = `${broker.url}/api/sso/logout?${new URLSearchParams(query)}`;
    const json = await fetch(logout, { redirect: 'manual', headers: { accept: 'application/json' } });
    t.same([json.status, ((await json.json()) as { error: string }).error], [400, 'invalid_request'], 'logout');
  }
  const initiations: Record<string, string>[] = [
    { iss: 'https://idp.example\u0000' },
    { iss: 'https://idp.example', target_link_uri: 'https://nul.example/\u0000' },
    { iss: 'https://idp.example', login_hint: 'a\u0000@b.example' },
  ];
  for (const query of initiations) {
    const initiate = `${broker.url}/api/sso/initiate?${new URLSearchParams(query)}`;
    const page = await fetch(initiate, { redirect: 'manual', headers: { accept: 'text/html' } });
    t.equal(page.status, 400, `initiate ${Object.keys(query).join(', ')}`);
    t.match(page.headers.get('content-type'), /^text\/html/);
    t.match(await page.text(), 'Reference: <code>invalid_request</code>');
  }
  const login = await fetch(
    `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.body.id, tenant: 'nul\u0000', return_to: 'https://nul.example/out' })}`,
    { redirect: 'manual', headers: { accept: 'application/json' } },
  );
  t.same([login.status, ((await login.json()) as { error: string }).error], [400, 'invalid_request'], 'login');
});

t.test('console: a NUL in a path parameter or a filter is a 400 console page, never 500', async (t) => {
  const signedIn = await fetch(`${broker.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: broker.adminToken }).toString(),
  });
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
  const home = await (await fetch(`${broker.url}/console`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(home)![1]!;
  const requests: [string, string][] = [
    ['GET', '/console/connections/%00'],
    ['GET', '/console/logins?tenant=%00'],
    ['GET', '/console/logins?connection=a%00'],
    ['GET', '/console/logins?app=%00'],
    ['GET', '/console/logins?error=%00'],
    ['GET', '/console/logins?request=%00'],
    ['POST', '/console/connections/%00/validate'],
    ['POST', '/console/connections/%00/versions/1/activate'],
    ['POST', '/console/connections/%00/versions/1/test-login'],
    ['POST', '/console/connections/%00/setup-links'],
    ['POST', '/console/setup-links/%00/revoke'],
    ['POST', '/console/apps/%00/rotate-secret'],
    ['POST', '/console/tenants/%00/setup-links'],
    ['POST', '/console/tenants'],
  ];
  for (const [method, path] of requests) {
    const answer = await fetch(`${broker.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie, ...(method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(method === 'POST' && {
        body: new URLSearchParams({ csrf, slug: path === '/console/tenants' ? 'a\u0000' : 'ok', name: 'x' }).toString(),
      }),
    });
    t.equal(answer.status, 400, `${method} ${path}`);
    t.match(await answer.text(), 'role="alert"', `${method} ${path}: the console says what went wrong`);
  }
});
