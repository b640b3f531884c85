import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Contract v3, connection versions: draft → validate → test login → activate; rollback by
// activating a retired version; PATCH drafts and activates at once; secrets never shown.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});

/** Runs a test-login URL through the IdP's form; the diagnostics (JSON). */
async function runTestLogin(url: string) {
  const browser = new TestBrowser();
  const first = await browser.follow(url, () => false);
  const action = formAction(await first.response.text(), browser.hops.at(-1)!.url);
  const done = await browser.follow(action, () => false, {
    form: { login: ADA.claims.email },
    accept: 'application/json',
  });
  return (await done.response.json()) as { ok: boolean; version?: number; steps: { id: string; ok: boolean }[] };
}

/** A real login through the app; which client authentication reached the IdP's token endpoint. */
async function loginAuth(scenario: Awaited<ReturnType<typeof registerTenant>>) {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
  t.ok(back.searchParams.get('ticket'), 'the login completed');
  const form = idp.tokenRequests.at(-1)!.form;
  return form.has('client_assertion') ? 'private_key_jwt' : form.has('client_secret') ? 'client_secret_post' : 'none';
}

t.test('a connection starts at version 1, active; versions never show a secret', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const listed = await broker.admin('GET', `/admin/connections/${scenario.connectionId}/versions`);
  t.equal(listed.status, 200);
  t.match(listed.body.versions, [
    {
      version: 1,
      status: 'active',
      createdBy: 'admin',
      hasClientSecret: true,
      issuer: idp.issuer,
      activatedAt: String,
    },
  ]);
  t.notOk(JSON.stringify(listed.body).includes(idp.secretClient.clientSecret), 'no secret');
  t.notOk('clientSecret' in listed.body.versions[0]);
  t.equal((await broker.admin('GET', '/admin/connections/00000000-0000-4000-8000-000000000000/versions')).status, 404);
  t.equal((await broker.admin('POST', `/admin/connections/${scenario.connectionId}/versions/9/activate`)).status, 404);
  t.equal((await broker.admin('POST', `/admin/connections/${scenario.connectionId}/versions/x1/validate`)).status, 404);
});

t.test('a draft changes nothing until it is tested and activated; then every login uses it', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const versions = `/admin/connections/${scenario.connectionId}/versions`;
  const draft = await broker.admin('POST', versions, {
    tokenEndpointAuthMethod: 'private_key_jwt',
    clientId: idp.jwtClient.clientId,
  });
  t.equal(draft.status, 201);
  t.match(draft.body, { version: 2, status: 'draft', createdBy: 'admin', hasClientSecret: false });
  t.equal(await loginAuth(scenario), 'client_secret_post', 'logins still use the active version');

  const report = await broker.admin('POST', `${versions}/2/validate`);
  t.equal(report.status, 200);
  t.equal(report.body.ok, true, JSON.stringify(report.body));

  const refused = await broker.admin('POST', `${versions}/2/activate`);
  t.equal(refused.status, 409);
  t.equal(refused.body.error, 'not_tested');

  const test = await broker.admin('POST', `${versions}/2/test-login`);
  t.equal(test.status, 200);
  const diagnostics = await runTestLogin(test.body.url);
  t.equal(diagnostics.ok, true);
  t.equal(diagnostics.version, 2);
  t.equal(idp.tokenRequests.at(-1)!.form.has('client_assertion'), true, 'the test used the draft’s settings');
  t.equal(await loginAuth(scenario), 'client_secret_post', 'a test login activates nothing');

  const activated = await broker.admin('POST', `${versions}/2/activate`);
  t.equal(activated.status, 200);
  t.match(activated.body, { version: 2, status: 'active', lastTest: { ok: true } });
  t.equal(await loginAuth(scenario), 'private_key_jwt', 'the next login uses version 2');
  const after = await broker.admin('GET', versions);
  t.same(
    after.body.versions.map((v: { version: number; status: string }) => [v.version, v.status]),
    [
      [2, 'active'],
      [1, 'retired'],
    ],
  );

  // Rollback: a retired version comes back at once, without a test.
  const rolledBack = await broker.admin('POST', `${versions}/1/activate`);
  t.equal(rolledBack.status, 200);
  t.equal(await loginAuth(scenario), 'client_secret_post', 'the rollback kept version 1’s secret');
});

t.test('a failed test login keeps the draft from activation; force is the admin’s override', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const versions = `/admin/connections/${scenario.connectionId}/versions`;
  const draft = await broker.admin('POST', versions, { clientSecret: 'not-the-secret' });
  t.match(draft.body, { version: 2, hasClientSecret: true });
  const test = await broker.admin('POST', `${versions}/2/test-login`);
  const diagnostics = await runTestLogin(test.body.url);
  t.equal(diagnostics.ok, false);
  t.match(diagnostics.steps.at(-1), { id: 'token_exchange', ok: false });
  const listed = await broker.admin('GET', versions);
  t.match(listed.body.versions[0], { version: 2, status: 'draft', lastTest: { ok: false } });
  t.equal((await broker.admin('POST', `${versions}/2/activate`)).status, 409);
  t.equal((await broker.admin('POST', `${versions}/2/activate`, { force: 'yes' })).status, 400);
  const forced = await broker.admin('POST', `${versions}/2/activate`, { force: true });
  t.equal(forced.status, 200);
  t.equal((await broker.admin('GET', versions)).body.versions[1].status, 'retired');
});

t.test('a new draft replaces the old one; PATCH drafts and activates at once', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const versions = `/admin/connections/${scenario.connectionId}/versions`;
  await broker.admin('POST', versions, { scopes: ['groups'] });
  const second = await broker.admin('POST', versions, {
    scopes: ['offline_access'],
    clientSecretExpiresAt: '2030-01-01T00:00:00Z',
  });
  t.match(second.body, { version: 3, status: 'draft', scopes: ['offline_access'], hasClientSecret: true });
  t.equal(second.body.clientSecretExpiresAt, '2030-01-01T00:00:00.000Z');
  const bad = await broker.admin('POST', versions, { tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: 'x' });
  t.equal(bad.status, 400, 'the connection rules apply to drafts');
  t.same(
    (await broker.admin('GET', versions)).body.versions.map((v: { version: number }) => v.version),
    [3, 1],
    'at most one draft',
  );
  const patched = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { scopes: ['phone'] });
  t.equal(patched.status, 200);
  const listed = (await broker.admin('GET', versions)).body.versions;
  t.match(listed[0], { version: 4, status: 'active', scopes: ['phone'], createdBy: 'admin' });
  t.match(
    listed.find((v: { version: number }) => v.version === 1),
    { status: 'retired' },
  );
  t.match(
    listed.find((v: { version: number }) => v.version === 3),
    { status: 'draft' },
    'the draft stays a draft',
  );
  // Switches on the connection are not IdP settings: no version.
  await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { enabled: true });
  t.equal((await broker.admin('GET', versions)).body.versions.length, 3);
});
