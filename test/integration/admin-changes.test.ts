import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, hiddenInputs } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA } from '../helpers/scenario.js';

// Contract v3, who changed what: GET /admin/changes lists every successful admin write (and
// what a setup-link holder saves or activates), newest first — never a secret value.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const changes = async (query = '') => (await broker.admin('GET', `/admin/changes${query}`)).body.changes as any[];

t.test('every admin write is recorded with who, what, which fields and from where', async (t) => {
  const secret = 'a-secret-that-must-never-appear';
  await broker.admin('POST', '/admin/tenants', { slug: 'audited', name: 'Audited' });
  await broker.admin('PATCH', '/admin/tenants/audited', { name: 'Audited Ltd', domains: ['audited.example'] });
  const connection = await broker.admin('POST', '/admin/tenants/audited/connections', {
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: secret,
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  const id = connection.body.id as string;
  await broker.admin('POST', `/admin/connections/${id}/validate`);
  await broker.admin('POST', `/admin/connections/${id}/test-login`);
  await broker.admin('PATCH', `/admin/connections/${id}`, { clientSecret: `${secret}-2` });
  await broker.admin('POST', `/admin/connections/${id}/versions`, { scopes: ['groups'] });
  await broker.admin('POST', `/admin/connections/${id}/versions/3/activate`, { force: true });
  t.equal((await broker.admin('POST', `/admin/connections/${id}/versions/1/activate`, { force: 'x' })).status, 400);
  const app = await broker.admin('POST', '/admin/apps', { name: 'A', returnUrls: ['https://a.example.test/'] });
  await broker.admin('POST', `/admin/apps/${app.body.id}/rotate-secret`);
  const link = await broker.admin('POST', '/admin/tenants/audited/setup-links', { connection: id });
  await broker.admin('DELETE', `/admin/setup-links/${link.body.id}`);
  await broker.admin('DELETE', `/admin/apps/${app.body.id}`);

  const all = await changes();
  t.same(
    all.map((c) => [c.resource, c.action, c.id, c.fields]),
    [
      ['app', 'delete', app.body.id, []],
      ['setup-link', 'revoke', link.body.id, []],
      ['setup-link', 'create', link.body.id, ['connection']],
      ['app', 'rotate-secret', app.body.id, ['secret']],
      ['app', 'create', app.body.id, ['name', 'returnUrls']],
      ['connection-version', 'activate', `${id}/3`, ['force']],
      ['connection-version', 'create', `${id}/3`, ['scopes']],
      ['connection', 'update', id, ['clientSecret']],
      ['connection', 'create', id, ['clientId', 'clientSecret', 'issuer', 'tokenEndpointAuthMethod']],
      ['tenant', 'update', 'audited', ['domains', 'name']],
      ['tenant', 'create', 'audited', ['name', 'slug']],
    ],
    'newest first; validations, test logins and refused writes are not changes',
  );
  t.ok(all.every((c) => c.actor === 'admin token' && c.address === '127.0.0.1' && !Number.isNaN(Date.parse(c.at))));
  t.notOk(JSON.stringify(all).includes(secret), 'never a secret value');
  t.same(
    (await changes('?resource=app&limit=2')).map((c) => c.action),
    ['delete', 'rotate-secret'],
    'by resource, limited',
  );
  t.equal((await broker.admin('GET', '/admin/changes?resource=keys')).status, 400);
  t.equal((await broker.admin('GET', '/admin/changes?limit=1001')).status, 400);
  t.equal((await broker.admin('GET', '/admin/changes?limit=0')).status, 400);
});

t.test('what a setup-link holder saves or activates names the link as the actor', async (t) => {
  await broker.admin('POST', '/admin/tenants', { slug: 'holder', name: 'Holder' });
  const link = await broker.admin('POST', '/admin/tenants/holder/setup-links', {});
  const browser = new TestBrowser();
  const html = await (await browser.request(`${link.body.url}?idp=other&method=client_secret_post`)).text();
  const saved = await fetch(`${link.body.url}/draft`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...hiddenInputs(html),
      issuer: idp.issuer,
      clientId: idp.secretClient.clientId,
      clientSecret: idp.secretClient.clientSecret,
    }).toString(),
  });
  t.equal(saved.status, 303);
  const [latest] = await changes('?resource=connection-version&limit=1');
  t.match(latest, {
    actor: `setup-link:${link.body.id}`,
    action: 'create',
    id: `${link.body.connection}/1`,
    fields: ['clientId', 'clientSecret', 'issuer', 'tokenEndpointAuthMethod'],
  });
  t.notOk(JSON.stringify(latest).includes(idp.secretClient.clientSecret));
});
