import { join } from 'node:path';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { startIdp } from '../helpers/idp.js';
import { watch } from '../helpers/journey.js';
import { ADA } from '../helpers/scenario.js';

// The setup link as an IdP engineer lives it over days, in Chromium with the pages' real CSP: the
// page keeps its place (the IdP and method chosen, on a reload and in another browser session),
// shows the step they are at, and after a test sign-in leads back to the result with the next
// action at the top; after activation it says what happened, what is next and how long the link
// still works. On a broker without a key of its own, private_key_jwt is never offered as a step
// that could work. Screenshots go to test-artifacts/setup-journey-*.png.

/** An ISO 8601 date-time as the page must not show it (it goes in <time datetime> and on hover). */
const RAW_ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const currentStep = async (page: Page) =>
  (await page.locator('ol.progress [aria-current="step"]').allTextContents()).map((s) => s.trim());
const next = (page: Page) => page.getByRole('region', { name: 'Next' });
const checked = async (t: Test, page: Page, name: string) => {
  t.same(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);
  await page.screenshot({ path: join(ARTIFACTS, `setup-journey-${name}.png`), fullPage: true });
};

t.test(
  'the setup page keeps its place, shows the current step, and leads back from each test sign-in to its result and the next action',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
      strictRedirectUris: true,
    });
    t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'contoso', name: 'Contoso' })).status, 201);
    const link = await broker.admin('POST', '/admin/tenants/contoso/setup-links', { expiresInHours: 72 });
    t.equal(link.status, 201);
    const browser = await launch(t);
    const context = await browser.newContext();
    const journey = await watch(context, t);
    const page = await context.newPage();

    // Day 1: the IdP and the method.
    await page.goto(link.body.url);
    t.same(await currentStep(page), ['1 · Your IdP']);
    await page.getByLabel('Identity provider', { exact: true }).selectOption({ label: 'Okta' });
    await page.getByRole('radio', { name: /Client secret/ }).check();
    await page.getByRole('button', { name: 'Show what to register' }).click();
    await page.getByRole('heading', { name: '2. Register the broker at Okta' }).waitFor();
    t.same(await currentStep(page), ['3 · Hand back your settings'], 'chosen: the next step is to hand back');
    await page.reload();
    await page.getByRole('heading', { name: '2. Register the broker at Okta' }).waitFor();
    t.equal(await page.getByLabel('Identity provider', { exact: true }).inputValue(), 'okta', 'kept on a reload');

    // Day 2, another browser session, the link as the operator sent it: the page is where it was.
    const later = await browser.newContext();
    const laterJourney = await watch(later, t);
    const again = await later.newPage();
    await again.goto(link.body.url);
    await again.getByRole('heading', { name: '2. Register the broker at Okta' }).waitFor();
    t.equal(await again.getByLabel('Identity provider', { exact: true }).inputValue(), 'okta', 'kept on the link');
    t.ok(await again.getByRole('radio', { name: /Client secret/ }).isChecked(), 'and the method');
    // 72 hours less the seconds the test took so far: to the nearest day.
    t.match(
      await again.locator('main').textContent(),
      /It works\s+until \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC \(in 3 days\)/,
    );
    const redirectUri = await again
      .locator('tr', { hasText: 'Redirect URI (this connection' })
      .locator('code')
      .textContent();
    idp.registerRedirectUri(redirectUri!);

    // Hand back, with a secret that is not the one the IdP issued: the test sign-in fails.
    await again.getByLabel('Issuer', { exact: true }).fill(idp.issuer);
    await again.getByLabel('Client id', { exact: true }).fill(idp.secretClient.clientId);
    await again.getByLabel('Client secret', { exact: true }).fill('not-the-secret-the-idp-issued-0123456789');
    await again.getByRole('button', { name: 'Save and validate' }).click();
    await again.getByText('every check passed').waitFor();
    t.same(await currentStep(again), ['4 · Test sign-in']);
    t.match(await next(again).textContent(), 'Version 1 is saved');
    const testSignIn = async (version: number, back: string) => {
      await again.getByRole('button', { name: `Test sign-in with version ${version}` }).click();
      // The IdP asks who signs in the first time; the second time its own session answers.
      const email = again.getByLabel('Email', { exact: true });
      const backLink = again.getByRole('link', { name: `Back to the setup page: ${back}` });
      await email.or(backLink).first().waitFor();
      if (await email.isVisible()) {
        await email.fill(ADA.claims.email as string);
        await again.getByRole('button', { name: 'Sign in' }).click();
      }
      await backLink.click();
      await next(again).waitFor();
      t.equal(new URL(again.url()).hash, '#next', 'back at the next step, at the top of the page');
    };
    await testSignIn(1, 'fix it and test again');
    t.match(
      await next(again).textContent(),
      /✗ The test sign-in\s+of version 1 failed/,
      'the result, without a reload',
    );
    t.same(await currentStep(again), ['4 · Test sign-in']);
    t.equal(await again.getByRole('button', { name: 'Activate version 1' }).count(), 0, 'nothing to activate');
    await checked(t, again, 'test-failed');

    // Fixed, saved again, tested: the result and Activate, where the eye is.
    await again.getByLabel('Client secret', { exact: true }).fill(idp.secretClient.clientSecret);
    await again.getByRole('button', { name: 'Save and validate' }).click();
    await again.getByText('every check passed').waitFor();
    await testSignIn(2, 'activate version 2');
    t.match(await next(again).textContent(), /✓ The test sign-in\s+of version 2 succeeded/);
    t.same(await currentStep(again), ['5 · Activate']);
    const activate = next(again).getByRole('button', { name: 'Activate version 2' });
    const box = await activate.boundingBox();
    t.ok(box && box.y + box.height < 720, `Activate is in the first screenful (${box?.y} px from the top)`);
    const at = next(again).locator('time');
    t.match(await at.getAttribute('datetime'), RAW_ISO, 'the exact time, in datetime');
    t.match(await at.getAttribute('title'), RAW_ISO, 'and on hover');
    t.notMatch(await again.locator('main').innerText(), RAW_ISO, 'no raw ISO timestamp on the page');
    await checked(t, again, 'test-passed');

    // Activated: what happened, what is next, and what the link is still good for.
    await activate.click();
    await again.getByText('Version 2 is active').waitFor();
    const done = (await next(again).textContent()) ?? '';
    t.match(done, 'Single sign-on for Contoso is live');
    t.match(done, 'Nothing more to do');
    t.match(done, /This link works until .+\(in 3 days\)/);
    t.match(done, 'rotation');
    t.same(await currentStep(again), [], 'no step left: none highlighted');
    t.equal(await again.locator('ol.progress li.done').count(), 5, 'every step ticked');
    t.equal(await again.getByLabel('Identity provider', { exact: true }).inputValue(), 'okta', 'still Okta');
    t.notMatch(await again.locator('main').innerText(), RAW_ISO, 'no raw ISO timestamp on the page');
    await checked(t, again, 'active');

    journey.assertClean(t, 'day 1');
    laterJourney.assertClean(t, 'day 2');
  },
);

t.test(
  'private_key_jwt on a broker without a key of its own: an operator must create one first, and no step pretends otherwise',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t, {}, { prepareKeys: async () => {} });
    t.equal(broker.keys.keys.size, 0, 'no broker key');
    t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'fabrikam', name: 'Fabrikam' })).status, 201);
    const link = await broker.admin('POST', '/admin/tenants/fabrikam/setup-links', {});
    const browser = await launch(t);
    const context = await browser.newContext();
    const journey = await watch(context, t);
    const page = await context.newPage();

    await page.goto(link.body.url);
    const pkj = page.getByRole('radio', { name: /Private key JWT/ });
    t.ok(await pkj.isDisabled(), 'not offered');
    t.match(
      await page.locator('label.choice', { hasText: 'Private key JWT' }).textContent(),
      'an operator must create one first',
      'and says why',
    );
    await checked(t, page, 'no-broker-key');

    // A link that carries the choice anyway (an older bookmark): step 2 waits, and says for what.
    await page.goto(`${link.body.url}?idp=okta&method=private_key_jwt`);
    t.same(await currentStep(page), ['2 · Register the broker'], 'step 2 is not ticked');
    t.match(await next(page).textContent(), /operator of the sign-in service must create one first/);
    t.equal(await page.getByText('JWKS URL').count(), 0, 'nothing to register that could not work');

    // The form refuses it too, whatever the browser sends.
    await page.goto(link.body.url);
    await page.getByLabel('Identity provider', { exact: true }).selectOption({ label: 'Okta' });
    await pkj.evaluate((input) => ((input as unknown as { disabled: boolean }).disabled = false));
    await pkj.check();
    journey.expectErrorPage(400, /^\/setup\/[^/]+\/choose$/);
    await page.getByRole('button', { name: 'Show what to register' }).click();
    await page.getByRole('alert').filter({ hasText: 'must create one first' }).waitFor();
    await page.goto(link.body.url);
    t.equal(await page.getByLabel('Identity provider', { exact: true }).inputValue(), '', 'nothing was kept');
    t.same(await currentStep(page), ['1 · Your IdP']);

    journey.assertClean(t, 'the engineer without a broker key');
  },
);
