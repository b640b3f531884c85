import t from 'tap';
import { startBroker } from '../helpers/broker.js';

// Bug (found by bad-input.property.test.ts in CI, seed -986451699): GET /admin/tenants/%00
// answered 500. PostgreSQL refuses a NUL byte in text, and the slug or id went to the database
// as it came. The same held for NUL in admin bodies and in a logout's session. A key that
// cannot name a row is now "not found" without a query; a body with NUL is invalid_request.

const broker = await startBroker(t);

t.test('a NUL byte in an admin path is 404 not_found, never 500', async (t) => {
  for (const path of [
    '/admin/tenants/%00',
    '/admin/tenants/a%00b/logins',
    '/admin/tenants/%00/connections',
    '/admin/connections/%00',
    '/admin/apps/%00',
  ]) {
    const answer = await broker.admin('GET', path);
    t.same([answer.status, answer.body.error], [404, 'not_found'], path);
  }
  for (const path of ['/admin/tenants/%00', '/admin/connections/%00', '/admin/apps/%00']) {
    const answer = await broker.admin('PATCH', path, { name: 'x' });
    t.same([answer.status, answer.body.error], [404, 'not_found'], `PATCH ${path}`);
  }
});

t.test('a NUL character in an admin body is 400 invalid_request naming the field, never 500', async (t) => {
  for (const [path, body, field] of [
    ['/admin/tenants', { slug: 'nul-org', name: 'a\u0000b' }, 'name'],
    ['/admin/apps', { name: 'a\u0000', returnUrls: ['https://a.example/cb'] }, 'name'],
    ['/admin/apps', { name: 'ok', returnUrls: ['https://a.example/\u0000'] }, 'returnUrls.0'],
  ] as const) {
    const answer = await broker.admin('POST', path, body);
    t.same([answer.status, answer.body.error, answer.body.details?.[0]?.path], [400, 'invalid_request', field], path);
  }
  t.equal((await broker.admin('GET', '/admin/tenants/nul-org')).status, 404, 'nothing was written');
});

t.test('a NUL character in the session of a logout is 400 unknown_session, never 500', async (t) => {
  const app = await broker.admin('POST', '/admin/apps', { name: 'Nul', returnUrls: ['https://nul.example/out'] });
  const query = new URLSearchParams({
    app: app.body.id,
    session: 'a\u0000b',
    post_logout_redirect_uri: 'https://nul.example/out',
  });
  const answer = await fetch(`${broker.url}/api/sso/logout?${query}`, {
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  t.same([answer.status, ((await answer.json()) as { error: string }).error], [400, 'unknown_session']);
});
