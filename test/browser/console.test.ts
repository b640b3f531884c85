import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import t from 'tap';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { draftThroughLink } from '../helpers/console.js';
import { watch, type Watch } from '../helpers/journey.js';
import { ADA, GRACE, auditedLogins, registerTenant } from '../helpers/scenario.js';
import { packageRoot } from '../../src/config/local.js';

// The operators' console in Chromium: sign in with the admin token, see a tenant's connection
// and its health, roll a connection back, run a test sign-in at the IdP, create and revoke a
// setup link, rotate an app's secret, onboard a new organisation (tenant, app, a setup link whose
// draft the operator tests and activates), find a learner's login, and see the changes name the
// operator; and operators signing in through the broker's own SSO. The browser keeps the pages'
// real headers (their CSP): a CSP violation, a console error or an uncaught error on any page
// fails the test. axe-core on every page of the console (it scans a copy: accessibility.ts).

const README_SHOTS = join(packageRoot(), 'docs/screenshots');

t.test('an operator runs the broker from the console', { skip: missing }, async (t) => {
  const broker = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { scopes: ['groups'] }); // version 2
  await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
  await auditedLogins(broker, scenario.tenant, 1);

  const browser = await launch(t);
  const operator = await browser.newContext();
  const operatorWatch = await watch(operator, t);
  const page = await operator.newPage();
  const shot = async (p: Page, name: string) => {
    t.same(await seriousViolations(p), [], `${name}: no serious or critical accessibility violation`);
    await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    // UPDATE_SCREENSHOTS=1 also refreshes the README's copies.
    if (process.env.UPDATE_SCREENSHOTS)
      await copyFile(join(ARTIFACTS, `${name}.png`), join(README_SHOTS, `${name}.png`));
  };

  await page.goto(`${broker.url}/console`);
  await page.getByRole('heading', { name: 'SSO broker console' }).waitFor();
  await shot(page, 'console-sign-in');
  await page.getByLabel('Admin token').fill('not-the-token');
  operatorWatch.expectErrorPage(401, '/console/sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That is not the admin token.').waitFor();
  await page.getByLabel('Admin token').fill(broker.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(scenario.tenant) });
  t.match(await row.textContent(), /1\s*100%/, 'one login in the last 24 hours, all successful');
  await shot(page, 'console-tenants');

  await row.getByRole('link', { name: idp.issuer }).click();
  await page.getByRole('heading', { name: /^Connection / }).waitFor();
  await page.getByRole('button', { name: 'Roll back to version 1' }).click();
  await page.getByRole('button', { name: 'Activate version 1' }).click();
  await page.getByText('The version is active').waitFor();
  const versions = await broker.admin('GET', `/admin/connections/${scenario.connectionId}/versions`);
  t.match(
    versions.body.versions.find((v: { version: number }) => v.version === 1),
    { status: 'active' },
  );
  // A test sign-in of version 2, in this tab: the broker's page moves on to the IdP's sign-in
  // form, and the IdP sends the browser back to the diagnostics.
  const connectionPage = page.url().split('?')[0]!;
  await page
    .getByRole('row', { name: /^2 retired/ })
    .getByRole('button', { name: 'Test sign-in' })
    .click();
  await page.getByLabel('Email', { exact: true }).fill(ADA.claims.email as string);
  t.equal(new URL(page.url()).origin, new URL(idp.issuer).origin, 'at the IdP’s sign-in form');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Test login: it works' }).waitFor();
  t.match(await page.locator('main').textContent(), ', version 2,', 'the version asked for');
  t.same(await seriousViolations(page), [], 'the diagnostics: no serious or critical accessibility violation');
  await page.goto(connectionPage);
  t.match(
    await page.getByRole('row', { name: /^2 retired/ }).textContent(),
    /The test sign-in\s+of version 2 succeeded/,
    'the connection page shows the test passed',
  );
  await page.getByRole('button', { name: 'Create a setup link' }).click();
  const link = await page.getByLabel(/New setup link/).inputValue();
  t.match(link, new RegExp(`^${broker.url}/setup/[A-Za-z0-9_-]{43}$`));
  await shot(page, 'console-connection');
  await page.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Revoke the setup link' }).click();
  await page.getByText('The setup link is revoked').waitFor();
  t.equal((await fetch(link)).status, 404, 'the revoked link stops at once');

  await page.getByRole('link', { name: 'Apps' }).click();
  await page.getByRole('button', { name: /Rotate secret of/ }).click();
  await page.getByRole('button', { name: /Rotate the secret of/ }).click();
  const secret = await page.getByLabel(/Secret of app/).inputValue();
  t.ok(secret.length >= 40, 'the new secret is shown once');
  await shot(page, 'console-apps');

  // A new organisation, end to end from the console: tenant, app, a setup link its IdP
  // engineer completes, and its first learner's login in the logins view.
  await page.getByRole('link', { name: 'Tenants' }).click();
  const slug = page.getByLabel('Slug');
  await slug.fill('North wind');
  t.notOk(
    await slug.evaluate((input) => (input as unknown as { checkValidity(): boolean }).checkValidity()),
    'the browser checks the slug',
  );
  await slug.fill('northwind');
  await page.getByLabel('Name', { exact: true }).fill('Northwind');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await page.getByText('Tenant Northwind created').waitFor();
  await page.getByRole('link', { name: 'Northwind', exact: true }).click();
  await page.getByRole('button', { name: 'Create a setup link' }).click();
  const setupLink = await page.getByLabel(/New setup link/).inputValue();
  t.match(setupLink, /^http:\S+\/setup\/[A-Za-z0-9_-]{43}$/, 'the setup link is shown once');
  await page.getByRole('link', { name: 'Apps' }).click();
  const newApp = page.getByRole('form', { name: 'New app' });
  await newApp.getByLabel('Name', { exact: true }).fill('Northwind LMS');
  await newApp.getByLabel(/Return URLs/).fill('https://lms.northwind.test/sso');
  await newApp.getByLabel(/Tenants/).fill('northwind');
  await newApp.getByRole('button', { name: 'Create app' }).click();
  const appSecret = await page.getByLabel(/Secret of app/).inputValue();
  const northwindApp = (await broker.admin('GET', '/admin/apps')).body.find(
    (a: { name: string }) => a.name === 'Northwind LMS',
  );
  t.ok(appSecret && northwindApp, 'the app and its secret');

  // Its IdP engineer saves the settings through the link (test/browser/setup-link.test.ts walks
  // that page); the operator runs the test sign-in and activates from the console.
  await draftThroughLink(setupLink, {
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: idp.secretClient.clientSecret,
  });
  await page.getByRole('link', { name: 'Tenants' }).click();
  await page
    .getByRole('row', { name: /Northwind/ })
    .getByRole('link', { name: idp.issuer })
    .click();
  const northwindConnection = page.url();
  await page.getByRole('button', { name: 'Test sign-in' }).click();
  // Ada may still be signed in at the IdP from the test sign-in above: then it asks nothing.
  const email = page.getByLabel('Email', { exact: true });
  const works = page.getByRole('heading', { name: 'Test login: it works' });
  await email.or(works).waitFor();
  if (await email.isVisible()) {
    await email.fill(ADA.claims.email as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await works.waitFor();
  await page.goto(northwindConnection);
  await page.getByRole('button', { name: 'Activate version 1' }).click();
  await page.getByRole('button', { name: 'Activate version 1' }).click();
  await page.getByText('The version is active').waitFor();
  const learnerLogin = `${broker.url}/api/sso/login?app=${northwindApp.id}&tenant=northwind&return_to=https://lms.northwind.test/sso`;
  const back = await signIn(
    new TestBrowser(),
    learnerLogin,
    ADA.claims.email as string,
    'https://lms.northwind.test/sso',
  );
  t.ok(back.searchParams.get('ticket'), 'a Northwind learner signs in');
  await auditedLogins(broker, 'northwind', 1);

  await page.getByRole('link', { name: 'Logins', exact: true }).click();
  await page.getByLabel('Tenant').selectOption('northwind');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('cell', { name: 'success' }).first().waitFor();
  t.match(await page.locator('tbody').textContent(), 'Northwind LMS', 'the learner’s login, by the new app');
  await shot(page, 'console-logins');

  await page.getByRole('link', { name: 'Changes' }).click();
  await page.getByRole('heading', { name: 'Changes' }).waitFor();
  const changes = await page.locator('tbody').textContent();
  t.match(changes, /admin token\s*—\s*app [^\n]*\s*rotate-secret/, 'the operator is named');
  await shot(page, 'console-changes');

  // Forms need the session's CSRF token; without a session, the console sends you to sign in.
  const forged = await fetch(`${broker.url}/console/apps/${scenario.app.id}/rotate-secret`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'csrf=guess',
  });
  t.equal(forged.status, 303);
  t.equal(forged.headers.get('location'), '/console/sign-in');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'SSO broker console' }).waitFor();

  operatorWatch.assertClean(t, 'the operator’s journey');
});

t.test('operators sign in to the console through one of the broker’s own tenants', { skip: missing }, async (t) => {
  // The console's tenant and its connection exist before the broker starts with CONSOLE_TENANT:
  // that first start pins the connection's issuer (console-pin.ts).
  const setup = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: setup.config.callbackUrl,
    brokerJwks: setup.keys.jwks(),
    accounts: [ADA, GRACE],
    strictRedirectUris: true,
  });
  t.equal((await setup.admin('POST', '/admin/tenants', { slug: 'ops', name: 'Operations' })).status, 201);
  const connection = await setup.admin('POST', '/admin/tenants/ops/connections', {
    issuer: idp.issuer,
    clientId: idp.secretClient.clientId,
    clientSecret: idp.secretClient.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  t.equal(connection.status, 201);
  const broker = await startBroker(
    t,
    { consoleTenant: 'ops', consoleAdmins: ['ada@acme.example'], secretKeys: setup.config.secretKeys },
    { databaseUrl: setup.config.databaseUrl! },
  );
  idp.registerRedirectUri(`${broker.config.callbackUrl}/${connection.body.id}`);
  await broker.admin('POST', '/admin/apps', { name: 'LMS', returnUrls: ['https://lms.example.test/'] });

  const browser = await launch(t);
  const journeys: [string, Watch][] = [];
  /** `refused`: the IdP signs the person in, and the broker's answer is its error page (access_denied, 400). */
  const signInAs = async (login: string, refused = false) => {
    const context = await browser.newContext();
    const journey = await watch(context, t);
    journeys.push([login, journey]);
    if (refused) journey.expectErrorPage(400, `/api/sso/callback/${connection.body.id}`);
    const page = await context.newPage();
    await page.goto(`${broker.url}/console`);
    t.same(await seriousViolations(page), [], 'the sign-in page: no serious or critical accessibility violation');
    await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await page.getByLabel('Email').fill(login);
    t.equal(new URL(page.url()).origin, new URL(idp.issuer).origin, 'at the IdP’s sign-in form');
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  };

  const ada = await signInAs(ADA.claims.email as string);
  await ada.getByRole('heading', { name: 'Tenants' }).waitFor();
  t.match(await ada.locator('nav').textContent(), 'ada@acme.example', 'signed in as herself');
  t.same(await seriousViolations(ada), []);
  await ada.getByRole('link', { name: 'Apps' }).click();
  await ada.getByRole('button', { name: /Rotate secret of/ }).click();
  await ada.getByRole('button', { name: /Rotate the secret of/ }).click();
  await ada.getByLabel(/Secret of app/).waitFor();
  const [change] = (await broker.admin('GET', '/admin/changes?limit=1')).body.changes;
  t.match(change, { actor: 'ada@acme.example', resource: 'app', action: 'rotate-secret' }, 'the change names her');

  const grace = await signInAs(GRACE.claims.preferred_username, true);
  await grace.getByText('Your account may not use the console').waitFor();
  t.equal(await grace.getByRole('heading', { name: 'Tenants' }).count(), 0, 'someone CONSOLE_ADMINS does not list');
  t.same(await seriousViolations(grace), [], 'the refusal: no serious or critical accessibility violation');

  for (const [login, journey] of journeys) journey.assertClean(t, `${login}’s sign-in`);
});
