import t from 'tap';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { launch, missing } from '../helpers/chromium.js';
import { watch } from '../helpers/journey.js';

// The first screens, in Chromium with the pages' real CSP: `/` says what this service is and leads
// operators to the console and IdP engineers to the setup page and their guide; the sign-in page
// says where the admin token comes from; empty lists say what goes there; an unknown console path
// is a console page.

t.test('the first screens say what this is and what to do next', { skip: missing }, async (t) => {
  const broker = await startBroker(t);
  const browser = await launch(t);
  const context = await browser.newContext();
  const journey = await watch(context, t);
  const visitor = await context.newPage();

  await visitor.goto(broker.url);
  await visitor.getByRole('heading', { name: 'SSO broker' }).waitFor();
  t.equal(await visitor.getByRole('link', { name: 'Open the console' }).getAttribute('href'), '/console');
  t.equal(await visitor.getByRole('link', { name: 'setup page' }).getAttribute('href'), '/api/sso/setup');
  t.match(await visitor.locator('main').textContent(), 'docs/idp-engineers.md', 'the IdP engineers’ guide');
  t.same(await seriousViolations(visitor), [], 'the landing page: no serious or critical accessibility violation');

  await visitor.getByRole('link', { name: 'Open the console' }).click();
  t.match(await visitor.locator('#token-hint').textContent(), 'ADMIN_TOKEN', 'where the token comes from');
  t.match(await visitor.locator('#token-hint').textContent(), './.data/admin-token', 'on the embedded database');
  await visitor.getByLabel('Admin token').fill(broker.adminToken);
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await visitor.getByText(/No tenant yet/).waitFor();
  for (const [link, empty] of [
    ['Apps', /No app yet/],
    ['Logins', /No login yet/],
    ['Changes', /No change yet/],
  ] as const) {
    await visitor.getByRole('link', { name: link }).click();
    await visitor.getByText(empty).waitFor();
  }

  journey.expectErrorPage(404, '/console/tenant');
  await visitor.goto(`${broker.url}/console/tenant`);
  await visitor.getByRole('heading', { name: 'No such console page' }).waitFor();
  t.equal(await visitor.getByRole('link', { name: 'tenants', exact: true }).getAttribute('href'), '/console');
  t.same(await seriousViolations(visitor), [], 'the console’s 404: no serious or critical accessibility violation');
  journey.assertClean(t);
});
