import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import t from 'tap';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { watch } from '../helpers/journey.js';

// A learner's error pages, in Chromium with their real CSP, as they come from an app: a work
// email whose domain no organisation uses says so in the learner's terms and leads back to the
// app (with error= and the app's state, as after a failed sign-in); an organisation that is not
// connected says it once; and a return URL that is not registered never gets a link, whatever
// the error. The app itself is played by the browser (its pages are answered in the test, no
// network): only the broker's pages are real. Screenshots go to test-artifacts/learner-*.png.

const RETURN_TO = 'https://lms.example.test/sso/done?from=broker';

/** The app's pages, answered in the browser: whatever URL of the app is opened, a page saying where it is. */
async function playTheApp(context: BrowserContext) {
  await context.route('https://lms.example.test/**', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      headers: { 'content-security-policy': "default-src 'none'" },
      body: '<!doctype html><html lang="en"><title>LMS</title><main><h1>LMS</h1></main></html>',
    }),
  );
}

t.test(
  'a learner’s error pages say what happened once, and lead back only to a registered app',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    t.equal(
      (await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Acme', domains: ['acme.example'] })).status,
      201,
    );
    const app = await broker.admin('POST', '/admin/apps', { name: 'The LMS', returnUrls: [RETURN_TO] });
    t.equal(app.status, 201);
    const login = (params: Record<string, string>) =>
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: app.body.id, return_to: RETURN_TO, ...params })}`;

    const browser = await launch(t);
    const context = await browser.newContext();
    await playTheApp(context);
    const journey = await watch(context, t);
    const page = await context.newPage();
    const checked = async (p: Page, name: string) => {
      t.same(await seriousViolations(p), [], `${name}: no serious or critical accessibility violation`);
      await p.screenshot({ path: join(ARTIFACTS, `learner-${name}.png`), fullPage: true });
    };
    /** The page's main text, in the order a reader meets it: heading, then its first paragraph. */
    const opening = async () => ({
      heading: ((await page.locator('h1').textContent()) ?? '').trim(),
      first: ((await page.locator('h1 + *').textContent()) ?? '').trim(),
    });

    t.test('an email whose domain no organisation uses: said in the learner’s terms, with a way back', async (t) => {
      journey.expectErrorPage(400, '/api/sso/login');
      const response = await page.goto(login({ login_hint: 'ada@nowhere.example', state: 'app-state-42' }));
      t.equal(response?.status(), 400);
      await page.getByRole('heading', { name: 'Single sign-on is not available for this email address' }).waitFor();
      const main = (await page.locator('main').textContent()) ?? '';
      t.match(main, 'No organisation uses single sign-on for email addresses ending in @nowhere.example');
      t.notMatch(main, 'No organisation matches this sign-in link', 'not the link wording: the learner typed an email');
      await checked(page, 'unknown-email-domain');
      await page.getByRole('link', { name: 'Back to The LMS' }).click();
      await page.getByRole('heading', { name: 'LMS' }).waitFor();
      const back = new URL(page.url());
      t.equal(`${back.origin}${back.pathname}`, 'https://lms.example.test/sso/done', 'the registered return URL');
      t.equal(back.searchParams.get('from'), 'broker', 'its own query kept');
      t.equal(back.searchParams.get('error'), 'unknown_tenant', 'the app learns why');
      t.equal(back.searchParams.get('state'), 'app-state-42', 'and gets its state back');
    });

    t.test('an organisation that is not connected says so once, and leads back to the app', async (t) => {
      journey.expectErrorPage(400, '/api/sso/login');
      await page.goto(login({ tenant: 'acme' }));
      const { heading, first } = await opening();
      t.equal(heading, 'Single sign-on is not set up for Acme yet');
      t.not(first, 'Single sign-on is not set up for this organisation yet.', 'the heading is not repeated as a line');
      t.equal(first, 'What you can do', 'straight to what the learner can do');
      t.equal(await page.getByRole('link', { name: 'Back to The LMS' }).count(), 1);
      await checked(page, 'not-connected');
    });

    t.test('a return URL that is not registered gets no link, whatever failed', async (t) => {
      const foreign = 'https://evil.example.test/catch';
      const cases: Record<string, string>[] = [
        { login_hint: 'ada@nowhere.example', return_to: foreign },
        { tenant: 'acme', return_to: foreign },
        { tenant: 'acme', return_to: `${RETURN_TO}&x=1` },
        { tenant: 'acme', app: '00000000-0000-4000-8000-000000000000' },
      ];
      for (const params of cases) {
        journey.expectErrorPage(400, '/api/sso/login');
        const response = await page.goto(login(params));
        t.equal(response?.status(), 400, JSON.stringify(params));
        t.equal(await page.locator('main a').count(), 0, `no link on the page: ${JSON.stringify(params)}`);
      }
    });

    t.test('the pages reported nothing', async (t) => journey.assertClean(t, 'the learner’s pages'));
  },
);
