import t from 'tap';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { launch, missing } from '../helpers/chromium.js';
import { draftThroughLink, operator } from '../helpers/console.js';
import { startIdp } from '../helpers/idp.js';
import { ADA } from '../helpers/scenario.js';

// Onboarding and risky actions in the console, in Chromium with the pages' real CSP: a tenant's
// setup links (note, expiry, state) and its connection's draft with its last test are shown, Activate
// is offered only for a tested draft and asks first, revoking a link and rotating an app's secret
// ask first and say what breaks.

t.test(
  'onboarding shows its drafts and setup links, and activates only a tested draft, after asking',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
    });
    await broker.admin('POST', '/admin/tenants', { slug: 'globex', name: 'Globex' });
    const browser = await launch(t);
    const { page, journey } = await operator(t, browser, broker);

    await page.getByRole('link', { name: 'Globex' }).click();
    await page.getByRole('heading', { name: 'Tenant Globex' }).waitFor();
    await page.getByLabel(/Note/).fill('Globex IT, Hank');
    await page.getByLabel('Valid for').selectOption({ label: '3 days' });
    await page.getByRole('button', { name: 'Create a setup link' }).click();
    const link = await page.getByLabel(/New setup link/).inputValue();
    const row = page.getByRole('row', { name: /Globex IT, Hank/ });
    t.match(await row.textContent(), /unused/, 'the new link is listed, unused');
    t.match(await row.locator('time').nth(1).getAttribute('title'), /^\d{4}-\d\d-\d\dT/, 'its expiry, exact on hover');
    const expires = Date.parse((await row.locator('time').nth(1).getAttribute('datetime')) ?? '');
    t.ok(Math.abs(expires - Date.now() - 72 * 3_600_000) < 60_000, 'valid for the 3 days chosen');

    await draftThroughLink(link, {
      issuer: idp.issuer,
      clientId: idp.secretClient.clientId,
      clientSecret: idp.secretClient.clientSecret,
    });
    await page.getByRole('link', { name: 'Tenants' }).click();
    const tenantRow = page.getByRole('row', { name: /Globex/ });
    t.match(await tenantRow.textContent(), /draft, not active yet/, 'the tenants page shows the draft');
    t.match(await tenantRow.textContent(), /not tested yet/);
    t.notMatch(await tenantRow.textContent(), /no connection yet/);
    await tenantRow.getByRole('link', { name: idp.issuer }).click();
    await page.getByRole('heading', { name: `Connection ${idp.issuer}` }).waitFor();
    const connectionUrl = page.url();
    const activate = page.getByRole('button', { name: 'Activate version 1' });
    t.ok(await activate.isDisabled(), 'an untested draft cannot be activated');
    t.match(await page.getByText(/Run a test sign-in first/).textContent(), 'a draft is activated only after a test');

    await page.getByRole('button', { name: 'Test sign-in' }).click();
    await page.getByLabel('Email', { exact: true }).fill(ADA.claims.email as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Test login: it works' }).waitFor();
    await page.goto(connectionUrl);
    t.match(
      await page.getByRole('row', { name: /^1 draft/ }).textContent(),
      /✓ The test sign-in\s+of version 1 succeeded/,
    );
    await page.getByRole('button', { name: 'Activate version 1' }).click();
    await page.getByRole('heading', { name: 'Activate version 1?' }).waitFor();
    t.match(await page.getByRole('alert').textContent(), 'uses the IdP settings of version 1', 'says what changes');
    await page.getByRole('button', { name: 'Activate version 1' }).click();
    await page.getByText('The version is active').waitFor();

    // The link was used; revoking it asks first, says what breaks, and stops it.
    await page.getByRole('link', { name: 'Globex' }).click();
    const used = page.getByRole('row', { name: /Globex IT, Hank/ });
    t.match(await used.textContent(), /used \(opened/, 'the link shows it was used');
    await used.getByRole('button', { name: 'Revoke' }).click();
    t.match(await page.getByRole('alert').textContent(), 'stops working at once');
    t.equal((await fetch(link)).status, 200, 'nothing revoked before the confirmation');
    await page.getByRole('button', { name: 'Revoke the setup link' }).click();
    await page.getByText('The setup link is revoked').waitFor();
    t.match(await page.getByRole('row', { name: /Globex IT, Hank/ }).textContent(), /revoked/);
    t.equal((await fetch(link)).status, 404, 'the revoked link stops');
    t.same(await seriousViolations(page), [], 'the tenant page: no serious or critical accessibility violation');
    journey.assertClean(t);
  },
);

t.test('rotating an app’s secret asks first and says what breaks', { skip: missing }, async (t) => {
  const broker = await startBroker(t);
  await broker.admin('POST', '/admin/apps', { name: 'Hooli LMS', returnUrls: ['https://lms.hooli.test/'] });
  const browser = await launch(t);
  const { page, journey } = await operator(t, browser, broker);
  await page.getByRole('link', { name: 'Apps' }).click();
  await page.getByRole('button', { name: 'Rotate secret of Hooli LMS' }).click();
  await page.getByRole('heading', { name: 'Rotate the secret of Hooli LMS?' }).waitFor();
  t.match(await page.getByRole('alert').textContent(), 'stops working at once', 'says what breaks');
  t.same(await seriousViolations(page), [], 'the confirmation: no serious or critical accessibility violation');
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  const changes = await broker.admin('GET', '/admin/changes');
  t.notOk(
    changes.body.changes.some((c: { action: string }) => c.action === 'rotate-secret'),
    'nothing rotated without the confirmation',
  );
  await page.getByRole('button', { name: 'Rotate secret of Hooli LMS' }).click();
  await page.getByRole('button', { name: 'Rotate the secret of Hooli LMS' }).click();
  t.ok((await page.getByLabel(/Secret of app\s+Hooli LMS/).inputValue()).length >= 40, 'the new secret, shown once');
  journey.assertClean(t);
});
