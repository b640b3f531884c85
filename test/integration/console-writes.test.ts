import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// The console's writes, over HTTP as a browser posts them: a rotated secret is shown even when
// the change log cannot be written (the write happened; the page must not lose the only copy of
// the secret); an emptied Tenants field never opens an app to every tenant by itself — that
// takes the explicit "Every tenant" choice; and only a version that exists is offered to activate.

/** An operator's browser signed in with the admin token, and a console form poster (with its CSRF token). */
async function operator(broker: TestBroker) {
  const browser = new TestBrowser();
  const signedIn = await browser.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  if (signedIn.status !== 303) throw new Error(`sign-in: ${signedIn.status}`);
  const apps = await (await browser.request(`${broker.url}/console/apps`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(apps)?.[1] ?? '';
  return async (path: string, form: Record<string, string>) => {
    const response = await browser.request(`${broker.url}${path}`, { form: { csrf, ...form } });
    return { status: response.status, html: await response.text() };
  };
}

async function twoTenantsAndAnApp(broker: TestBroker) {
  for (const slug of ['acme', 'initech']) await broker.admin('POST', '/admin/tenants', { slug, name: slug });
  const app = await broker.admin('POST', '/admin/apps', {
    name: 'LMS',
    returnUrls: ['https://lms.example.test/done'],
    tenants: ['acme'],
  });
  return app.body as { id: string; secret: string };
}

t.test('a rotated secret is shown even when the change log cannot be written', async (t) => {
  const broker = await startBroker(t);
  const app = await twoTenantsAndAnApp(broker);
  const post = await operator(broker);
  await broker.database.pool.query('ALTER TABLE admin_changes RENAME TO admin_changes_away');
  t.teardown(() => broker.database.pool.query('ALTER TABLE admin_changes_away RENAME TO admin_changes'));

  const rotated = await post(`/console/apps/${app.id}/rotate-secret`, { confirmed: 'yes' });
  t.equal(rotated.status, 200, 'answered');
  const secret = /id="new-secret" class="copy" readonly value="([^"]+)"/.exec(rotated.html)?.[1];
  t.ok(secret, 'the new secret is on the page');
  t.not(secret, app.secret, 'a new one');
});

t.test('an emptied Tenants field is refused; every tenant takes the explicit choice', async (t) => {
  const broker = await startBroker(t);
  const app = await twoTenantsAndAnApp(broker);
  const post = await operator(broker);
  const tenantsOfApp = async () => (await broker.admin('GET', `/admin/apps/${app.id}`)).body.tenants;
  const returnUrls = 'https://lms.example.test/done';

  const emptied = await post(`/console/apps/${app.id}`, { returnUrls, tenants: '' });
  t.equal(emptied.status, 400, 'refused');
  t.match(
    emptied.html,
    /class="field-error">Tenants \(comma-separated\): name at least one tenant/,
    'beside the field',
  );
  t.same(await tenantsOfApp(), ['acme'], 'the app still admits only its tenant');

  const both = await post(`/console/apps/${app.id}`, { returnUrls, tenants: 'acme', everyTenant: 'yes' });
  t.equal(both.status, 400, 'tenants and every tenant at once: refused');
  t.match(both.html, /name="everyTenant" value="yes" checked/, 'the choice kept as sent');

  const every = await post(`/console/apps/${app.id}`, { returnUrls, tenants: '', everyTenant: 'yes' });
  t.equal(every.status, 200);
  t.equal(await tenantsOfApp(), null, 'every tenant, when asked for');

  const created = await post('/console/apps', { name: 'Other LMS', returnUrls: 'https://other.example.test/done' });
  t.equal(created.status, 400, 'a new app with no tenant named and no choice: refused');
  t.notOk(
    ((await broker.admin('GET', '/admin/apps')).body as { name: string }[]).some((a) => a.name === 'Other LMS'),
    'not created',
  );
});

t.test('only a version that exists is offered to activate', async (t) => {
  const broker = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const post = await operator(broker);
  for (const n of ['abc', '99', '0']) {
    const asked = await post(`/console/connections/${scenario.connectionId}/versions/${n}/activate`, {});
    t.equal(asked.status, 404, `version ${n}: not found`);
    t.notMatch(asked.html, `Activate version ${n}?`, 'and no confirmation for it');
  }
  const real = await post(`/console/connections/${scenario.connectionId}/versions/1/activate`, {});
  t.equal(real.status, 200);
  t.match(real.html, 'Activate version 1?', 'an existing one is confirmed first');
});
