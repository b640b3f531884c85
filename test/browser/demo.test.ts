import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { DEMO_PASSWORD, startDemo, type Demo } from '../../scripts/demo/demo.js';
import { freePort, packageRoot } from '../../src/config/local.js';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { watch, type Watch } from '../helpers/journey.js';

// The learner's journey on `npm run demo`, in a real browser (Debian's chromium through
// playwright-core): app → organisation → IdP sign-in form → back to the app, signed in as the
// right user of the right tenant; the learner-facing error pages; and the organisation not
// connected yet, whose IdP engineer connects it through the setup link (test sign-in at its
// IdP, diagnostics, activation) before its first learner signs in to the app. The browser keeps
// every page's real headers (the broker's CSP): a CSP violation, a console error or an uncaught
// error on any page fails the journey. The broker's pages pass axe-core. Screenshots go to
// test-artifacts/; UPDATE_SCREENSHOTS=1 also refreshes the README's.

const ROOT = packageRoot();
const README_SCREENSHOT = join(ROOT, 'scripts/demo/screenshot.png');
const README_SETUP_SCREENSHOT = join(ROOT, 'scripts/demo/setup-page.png');

// .ci/run installs chromium; a developer machine without it is told so rather than failing.

t.test('the demo in a real browser', { skip: missing }, async (t) => {
  const ports = {
    broker: await freePort(),
    app: await freePort(),
    acmeIdp: await freePort(),
    globexIdp: await freePort(),
    initechIdp: await freePort(),
  };
  const demo: Demo = await startDemo(ports);
  t.teardown(() => demo.stop());
  const browser = await launch(t);
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /** A fresh browser session, watched until the journey's end. */
  const session = async (t: Test): Promise<{ page: Page; journey: Watch }> => {
    const context = await browser.newContext();
    t.teardown(() => context.close());
    const journey = await watch(context, t);
    return { page: await context.newPage(), journey };
  };
  /** The broker's pages: no serious or critical accessibility violation. */
  const accessible = async (t: Test, page: Page, name: string) =>
    t.same(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);

  /** Every request a page makes, to prove nothing is loaded from elsewhere. */
  const hostsOf = (page: Page) => {
    const hosts = new Set<string>();
    page.on('request', (request) => hosts.add(new URL(request.url()).hostname));
    return hosts;
  };

  t.test('an Acme learner: organisation button → Acme sign-in form → back in the app as Ada, of Acme', async (t) => {
    const { page, journey } = await session(t);
    const hosts = hostsOf(page);
    await page.goto(demo.appUrl);
    await page.getByRole('link', { name: 'Continue with SSO — Acme Corp' }).click();
    await page.getByRole('heading', { name: 'Acme Corp sign-in' }).waitFor();
    t.match(page.url(), `localhost:${ports.acmeIdp}/interaction/`, 'at Acme’s identity provider');
    await page.getByLabel('Work email').fill('ada@acme.example');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    t.match(await page.getByRole('alert').textContent(), 'do not match', 'a wrong password is refused at the IdP');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    t.equal(new URL(page.url()).origin, demo.appUrl, 'back in the app');
    t.match(await page.getByTestId('organisation').textContent(), 'Acme Corp (acme)');
    t.equal(await page.getByTestId('login').textContent(), 'ada@acme.example');
    await shot(page, 'demo-acme-signed-in');
    if (process.env.UPDATE_SCREENSHOTS) await copyFile(join(ARTIFACTS, 'demo-acme-signed-in.png'), README_SCREENSHOT);
    t.same(
      [...hosts].filter((h) => h !== 'localhost' && !h.endsWith('.localhost')),
      [],
      'only this machine was contacted',
    );
    journey.assertClean(t);
  });

  t.test(
    'a Globex learner by work email lands in Globex; signing out goes through the broker and the IdP',
    async (t) => {
      const { page, journey } = await session(t);
      await page.goto(demo.appUrl);
      await page.getByLabel('Or continue with your work email').fill('hank@globex.example');
      await page.getByRole('button', { name: 'Continue with SSO' }).click();
      await page.getByRole('heading', { name: 'Globex Corporation sign-in' }).waitFor();
      await page.getByLabel('Work email').fill('hank@globex.example');
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Welcome, Hank Scorpio' }).waitFor();
      t.match(await page.getByTestId('organisation').textContent(), 'Globex Corporation (globex)', 'the second tenant');
      await shot(page, 'demo-globex-signed-in');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the learning portal' }).waitFor();
      t.equal(new URL(page.url()).origin, demo.appUrl, 'signed out at the IdP, and back in the app');
      journey.assertClean(t);
    },
  );

  t.test('“Continue with SSO” by work email asks the broker first: an address without SSO is told so', async (t) => {
    const { page, journey } = await session(t);
    await page.goto(demo.appUrl);
    await page.getByLabel('Or continue with your work email').fill('someone@unknown.example');
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    await page.getByRole('alert').waitFor();
    t.match(await page.getByRole('alert').textContent(), 'There is no single sign-on for someone@unknown.example');
    t.equal(new URL(page.url()).origin, demo.appUrl, 'the learner stays in the app');
    journey.assertClean(t);
  });

  t.test(
    'an Acme learner who signs out at Acme’s IdP is signed out of the portal (back-channel logout, session.ended)',
    async (t) => {
      const { page, journey } = await session(t);
      await page.goto(demo.appUrl);
      await page.getByRole('link', { name: 'Continue with SSO — Acme Corp' }).click();
      await page.getByLabel('Work email').fill('ada@acme.example');
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();

      // At Acme's own sign-out page, not through the portal: the IdP posts a logout token to
      // the broker, which ends the session and tells the portal with a signed webhook.
      await page.goto(`${demo.organisations.find((org) => org.slug === 'acme')!.issuer}/session/end`);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByRole('heading', { name: 'You are signed out.' }).waitFor();

      let notice: string | null = null;
      for (let i = 0; i < 50 && notice === null; i++) {
        await page.goto(demo.appUrl);
        const alert = page.getByRole('alert');
        notice = (await alert.count()) > 0 ? await alert.textContent() : null;
        if (notice === null) {
          t.equal(await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).count(), 1, 'still signed in');
          await page.waitForTimeout(100);
        }
      }
      t.match(notice, 'You signed out at your organisation', 'the portal says why');
      await page.getByRole('heading', { name: 'Sign in to the learning portal' }).waitFor();
      await shot(page, 'demo-signed-out-by-organisation');
      journey.assertClean(t);
    },
  );

  t.test('an unregistered return URL shows the broker’s error page, never a redirect', async (t) => {
    const { page, journey } = await session(t);
    const url = `${demo.brokerUrl}/api/sso/login?${new URLSearchParams({ app: demo.appId, return_to: 'https://evil.example/steal', tenant: 'acme' })}`;
    journey.expectErrorPage(400, '/api/sso/login');
    const response = await page.goto(url);
    t.equal(response?.status(), 400);
    t.equal(page.url(), url, 'the browser stayed at the broker');
    await page.getByRole('heading', { name: 'This sign-in link is not valid' }).waitFor();
    const text = (await page.textContent('main')) ?? '';
    t.match(text, 'What you can do');
    t.match(text, 'redirect URI mismatch', 'what to tell the application’s support team');
    t.match(text, 'invalid_return_to', 'the reference code');
    t.match(text, response!.headers()['x-request-id']!, 'and the request id');
    t.equal(await page.getAttribute('html', 'lang'), 'en');
    await accessible(t, page, 'the error page');
    await shot(page, 'error-unregistered-return-url');
    journey.assertClean(t);
  });

  t.test('the setup page of a connection shows the IdP engineer that connection’s own redirect URI', async (t) => {
    const { page, journey } = await session(t);
    const acme = demo.organisations.find((org) => org.slug === 'acme')!;
    const response = await page.goto(`${demo.brokerUrl}/api/sso/setup?connection=${acme.connection}`);
    t.equal(response?.status(), 200);
    await page.getByRole('heading', { name: 'Register this SSO broker with your identity provider' }).waitFor();
    const redirectUri = `${demo.brokerUrl}/api/sso/callback/${acme.connection}`;
    t.match(
      (await page.getByRole('row', { name: /Redirect URI/ }).textContent()) ?? '',
      redirectUri,
      'the connection’s own redirect URI',
    );
    t.match((await page.getByRole('row', { name: /Client id/ }).textContent()) ?? '', 'sso-broker');
    t.match(
      (await page.textContent('main')) ?? '',
      `${demo.brokerUrl}/.well-known/jwks.json`,
      'and the JWKS URL for private_key_jwt',
    );
    await accessible(t, page, 'the setup page');
    // The top of the page (what to register) is what the README shows.
    await page.screenshot({ path: join(ARTIFACTS, 'setup-page-connection.png') });
    if (process.env.UPDATE_SCREENSHOTS)
      await copyFile(join(ARTIFACTS, 'setup-page-connection.png'), README_SETUP_SCREENSHOT);
    journey.assertClean(t);
  });

  t.test(
    'a code sent back to the shared callback of contract v1 shows what to fix, and completes nothing',
    async (t) => {
      const { page, journey } = await session(t);
      journey.expectErrorPage(400, '/api/sso/callback');
      const response = await page.goto(`${demo.brokerUrl}/api/sso/callback?code=abc&state=def`);
      t.equal(response?.status(), 400);
      await page.getByRole('heading', { name: 'This sign-in came back to the wrong address' }).waitFor();
      const text = (await page.textContent('main')) ?? '';
      t.match(text, '/api/sso/setup?connection=', 'where the IdP engineer finds the right redirect URI');
      t.match(text, 'callback_mismatch');
      await accessible(t, page, 'the error page');
      await shot(page, 'error-callback-mismatch');
      journey.assertClean(t);
    },
  );

  t.test('an unknown organisation subdomain shows the learner what to try and what to tell IT', async (t) => {
    const { page, journey } = await session(t);
    journey.expectErrorPage(400, '/api/sso/login');
    const response = await page.goto(
      `http://nope.sso.localhost:${ports.broker}/api/sso/login?${new URLSearchParams({ app: demo.appId, return_to: `${demo.appUrl}/sso/done` })}`,
    );
    t.equal(response?.status(), 400);
    await page.getByRole('heading', { name: 'We do not recognise this organisation' }).waitFor();
    t.match((await page.textContent('main')) ?? '', /configuration not found[\s\S]*unknown_tenant/);
    await accessible(t, page, 'the error page');
    await shot(page, 'error-unknown-tenant');
    journey.assertClean(t);
  });

  t.test(
    'Initech is not connected yet; its IdP engineer connects it with the setup link, and its first learner signs in',
    async (t) => {
      const { onboarding } = demo;
      const peter = onboarding.users[0]!;
      // A learner tries too early: the broker says so.
      const early = await session(t);
      early.journey.expectErrorPage(400, '/api/sso/login');
      await early.page.goto(demo.appUrl);
      await early.page.getByRole('link', { name: 'Continue with SSO — Initech' }).click();
      await early.page.getByRole('heading', { name: 'Single sign-on is not set up for Initech yet' }).waitFor();
      early.journey.assertClean(t, 'the early learner');

      // The IdP engineer opens the link, chooses the IdP and the method, and sees what to register.
      const { page, journey } = await session(t);
      const setup = await page.goto(onboarding.setupLink);
      t.equal(setup?.status(), 200);
      await page.getByRole('heading', { name: 'Set up single sign-on for Initech' }).waitFor();
      await accessible(t, page, 'the setup link');
      await page.getByLabel('Identity provider', { exact: true }).selectOption({ label: 'Another OpenID Connect IdP' });
      await page.getByRole('radio', { name: /Client secret/ }).check();
      await page.getByRole('button', { name: 'Show what to register' }).click();
      const redirectUri = await page
        .locator('tr', { hasText: 'Redirect URI (this connection' })
        .locator('code')
        .textContent();
      t.match(redirectUri, `${demo.brokerUrl}/api/sso/callback/`, 'the connection’s own redirect URI');
      await accessible(t, page, 'what to register');

      // What the IdP handed out, saved and validated.
      t.match(onboarding.issuer, `localhost:${ports.initechIdp}`);
      await page.getByLabel('Issuer', { exact: true }).fill(onboarding.issuer);
      await page.getByLabel('Client id', { exact: true }).fill(onboarding.clientId);
      await page.getByLabel('Client secret', { exact: true }).fill(onboarding.clientSecret);
      await page.getByRole('button', { name: 'Save and validate' }).click();
      await page.getByText('every check passed').waitFor();
      await accessible(t, page, 'the validation report');

      // Test sign-in at Initech's IdP, in the same tab; the diagnostics lead back to the setup page.
      await page.getByRole('button', { name: 'Test sign-in with version 1' }).click();
      const test = page;
      await test.getByRole('heading', { name: 'Initech sign-in' }).waitFor();
      await test.getByLabel('Work email').fill(peter.email);
      await test.getByLabel('Password').fill(DEMO_PASSWORD);
      await test.getByRole('button', { name: 'Sign in' }).click();
      await test.getByRole('heading', { name: 'Test login: it works' }).waitFor();
      t.equal(await test.getByLabel('failed').count(), 0, 'every step passed');
      t.match(await test.locator('main').textContent(), peter.email, 'with the validated claims');
      await accessible(t, test, 'the diagnostics');

      // Back on the setup page: the result and Activate, at the top.
      await test.getByRole('link', { name: 'Back to the setup page: activate version 1' }).click();
      await page.getByRole('button', { name: 'Activate version 1' }).click();
      await page.getByText('Version 1 is active').waitFor();
      await accessible(t, page, 'the active connection');
      journey.assertClean(t, 'the IdP engineer');

      // Initech's first learner signs in to the app.
      const learner = await session(t);
      await learner.page.goto(demo.appUrl);
      await learner.page.getByRole('link', { name: 'Continue with SSO — Initech' }).click();
      await learner.page.getByRole('heading', { name: 'Initech sign-in' }).waitFor();
      await learner.page.getByLabel('Work email').fill(peter.email);
      await learner.page.getByLabel('Password').fill(DEMO_PASSWORD);
      await learner.page.getByRole('button', { name: 'Sign in' }).click();
      await learner.page.getByRole('heading', { name: `Welcome, ${peter.name}` }).waitFor();
      t.match(await learner.page.getByTestId('organisation').textContent(), 'Initech (initech)');
      t.equal(await learner.page.getByTestId('login').textContent(), peter.email);
      learner.journey.assertClean(t, 'the first learner');
    },
  );
});
