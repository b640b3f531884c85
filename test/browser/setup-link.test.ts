import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import t from 'tap';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { watch } from '../helpers/journey.js';
import { ADA } from '../helpers/scenario.js';
import { packageRoot } from '../../src/config/local.js';

// The IdP engineer's setup link, played end to end in Chromium against a real oidc-provider
// that accepts only the redirect URIs registered with it: open the link, register the shown
// redirect URI, hand back (with a deliberate mistake the report points out), test sign-in,
// activate; a learner signs in. Then a second link rotates the client secret while logins
// run, and the operator rolls back. The browser keeps the pages' real headers (their CSP): a CSP
// violation, a console error or an uncaught error on any page of either journey fails the test.
// Every page of the broker passes axe-core (no serious or critical violation; axe scans a copy
// of the page, test/helpers/accessibility.ts). Screenshots go to test-artifacts/setup-*.png.

const ROOT = packageRoot();
/** UPDATE_SCREENSHOTS=1 also refreshes the README's copies. */
const README_SHOTS = join(ROOT, 'docs/screenshots');

t.test('an IdP engineer onboards an organisation alone, in a real browser', { skip: missing }, async (t) => {
  const broker = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
    strictRedirectUris: true,
  });
  const browser = await launch(t);
  const context = await browser.newContext();
  const engineer = await watch(context, t);
  const shot = async (page: Page, name: string) => {
    t.same(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS) {
      await mkdir(README_SHOTS, { recursive: true });
      await copyFile(join(ARTIFACTS, `${name}.png`), join(README_SHOTS, `${name}.png`));
    }
  };

  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'northwind', name: 'Northwind' })).status, 201);
  const app = await broker.admin('POST', '/admin/apps', { name: 'LMS', returnUrls: ['https://lms.example.test/sso'] });
  const loginUrl = `${broker.url}/api/sso/login?app=${app.body.id}&tenant=northwind&return_to=https://lms.example.test/sso`;
  const learnerSignsIn = async () =>
    (await signIn(new TestBrowser(), loginUrl, ADA.claims.email as string, 'https://lms.example.test/sso'))
      .searchParams;
  const link = await broker.admin('POST', '/admin/tenants/northwind/setup-links', { note: 'Northwind IT' });
  t.equal(link.status, 201);

  const page = await context.newPage();
  await page.goto(link.body.url);
  await page.getByRole('heading', { name: 'Set up single sign-on for Northwind' }).waitFor();
  await shot(page, 'setup-1-open');

  // 1. The IdP and the method.
  await page.getByLabel('Identity provider', { exact: true }).selectOption({ label: 'Another OpenID Connect IdP' });
  await page.getByRole('radio', { name: /Client secret/ }).check();
  await page.getByRole('button', { name: 'Show what to register' }).click();
  await page.getByRole('heading', { name: /2\. Register the broker/ }).waitFor();
  await shot(page, 'setup-2-register');

  // 2. Register the redirect URI the page shows, at the IdP.
  const redirectUri = await page
    .locator('tr', { hasText: 'Redirect URI (this connection' })
    .locator('code')
    .textContent();
  t.equal(redirectUri, `${broker.config.callbackUrl}/${link.body.connection}`);
  idp.registerRedirectUri(redirectUri!);

  // 3. Hand back, with the classic mistake: a trailing slash on the issuer.
  await page.getByLabel('Issuer', { exact: true }).fill(`${idp.issuer}/`);
  await page.getByLabel('Client id', { exact: true }).fill(idp.secretClient.clientId);
  await page.getByLabel('Client secret', { exact: true }).fill(idp.secretClient.clientSecret);
  await page.getByRole('button', { name: 'Save and validate' }).click();
  const report = page.getByRole('status').filter({ hasText: 'Validation of version' });
  await report.waitFor();
  t.match(await report.textContent(), 'some checks failed');
  t.match(await report.textContent(), `discovery says issuer "${idp.issuer}"`, 'the report says what is wrong');
  await shot(page, 'setup-3-report-failed');
  await page.getByLabel('Issuer', { exact: true }).fill(idp.issuer);
  await page.getByRole('button', { name: 'Save and validate' }).click();
  await page.getByText('every check passed').waitFor();
  t.notOk((await page.content()).includes(idp.secretClient.clientSecret), 'the secret is never shown back');
  await shot(page, 'setup-3-report-passed');

  // 4. Test sign-in, in the same tab: the broker's page moves on to the IdP's sign-in form, and
  // the IdP sends the browser back to the diagnostics, which lead back to the setup page.
  await page.getByRole('button', { name: 'Test sign-in with version 2' }).click();
  const diagnostics = page;
  await diagnostics.getByLabel('Email', { exact: true }).fill(ADA.claims.email as string);
  t.equal(new URL(diagnostics.url()).origin, new URL(idp.issuer).origin, 'at the IdP’s sign-in form');
  await diagnostics.getByRole('button', { name: 'Sign in' }).click();
  await diagnostics.getByRole('heading', { name: 'Test login: it works' }).waitFor();
  t.equal(new URL(diagnostics.url()).origin, broker.url, 'back at the broker');
  t.equal(await diagnostics.getByLabel('failed').count(), 0, 'no step failed');
  t.ok(
    await diagnostics
      .getByRole('row', { name: /Token exchange/ })
      .getByLabel('passed')
      .count(),
    'each step',
  );
  t.match(await diagnostics.locator('main').textContent(), 'ada@acme.example', 'and the validated claims');
  await shot(diagnostics, 'setup-4-test-sign-in');

  // 5. Back on the setup page, the result and Activate are at the top; a learner then signs in.
  await diagnostics.getByRole('link', { name: 'Back to the setup page: activate version 2' }).click();
  await page.getByRole('region', { name: 'Next' }).getByText('The test sign-in of version 2 succeeded').waitFor();
  await page.getByRole('button', { name: 'Activate version 2' }).click();
  await page.getByText('Version 2 is active').waitFor();
  await shot(page, 'setup-5-active');
  t.ok((await learnerSignsIn()).get('ticket'), 'a learner signs in through the new connection');

  // A second link rotates the client secret while learners keep signing in.
  const rotation = await broker.admin('POST', '/admin/tenants/northwind/setup-links', {
    connection: link.body.connection,
  });
  const newSecret = 'the-rotated-client-secret-0123456789abcdef';
  idp.secrets.add(newSecret);
  let running = true;
  t.teardown(() => {
    running = false;
  });
  const outcomes: string[] = [];
  const loop = (async () => {
    while (running) outcomes.push((await learnerSignsIn()).get('ticket') ? 'ok' : 'failed');
  })();
  // Another day, another browser session of the IdP engineer.
  const later = await browser.newContext();
  const rotator = await watch(later, t);
  const second = await later.newPage();
  await second.goto(rotation.body.url);
  await second.getByLabel('Client secret', { exact: true }).fill(newSecret);
  await second.getByLabel(/The secret expires on/).fill('2031-01-31');
  await second.getByRole('button', { name: 'Save and validate' }).click();
  await second.getByText('every check passed').waitFor();
  await second.getByRole('button', { name: 'Test sign-in with version 3' }).click();
  await second.getByLabel('Email', { exact: true }).fill(ADA.claims.email as string);
  await second.getByRole('button', { name: 'Sign in' }).click();
  await second.getByRole('heading', { name: 'Test login: it works' }).waitFor();
  t.same(await seriousViolations(second), [], 'the diagnostics: no serious or critical accessibility violation');
  await second.getByRole('link', { name: 'Back to the setup page: activate version 3' }).click();
  await second.getByRole('region', { name: 'Next' }).getByText('The test sign-in of version 3 succeeded').waitFor();
  await second.getByRole('button', { name: 'Activate version 3' }).click();
  await second.getByText('Version 3 is active').waitFor();
  t.same(await seriousViolations(second), [], 'the rotated connection’s page: no serious or critical violation');
  const switched = outcomes.length;
  while (outcomes.length < switched + 3) await new Promise((r) => setTimeout(r, 50));
  running = false;
  await loop;
  t.ok(outcomes.length >= 3, `${outcomes.length} logins ran during the rotation`);
  t.same(
    outcomes.filter((o) => o !== 'ok'),
    [],
    'no login failed during the switch',
  );
  t.equal(idp.tokenRequests.at(-1)!.form.get('client_secret'), newSecret, 'logins now use the new secret');

  // The operator rolls back to the previous version, at once.
  const rolledBack = await broker.admin('POST', `/admin/connections/${link.body.connection}/versions/2/activate`);
  t.equal(rolledBack.status, 200);
  t.ok((await learnerSignsIn()).get('ticket'));
  t.equal(idp.tokenRequests.at(-1)!.form.get('client_secret'), idp.secretClient.clientSecret, 'rolled back');
  const versions = await broker.admin('GET', `/admin/connections/${link.body.connection}/versions`);
  t.match(versions.body.versions, [
    { version: 3, status: 'retired', createdBy: 'setup-link', clientSecretExpiresAt: '2031-01-31T23:59:59.000Z' },
    { version: 2, status: 'active', createdBy: 'setup-link', lastTest: { ok: true } },
  ]);

  engineer.assertClean(t, 'the onboarding');
  rotator.assertClean(t, 'the rotation');
});
