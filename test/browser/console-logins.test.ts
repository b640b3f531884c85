import t from 'tap';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { launch, missing } from '../helpers/chromium.js';
import { operator } from '../helpers/console.js';
import { startIdp } from '../helpers/idp.js';
import { watch } from '../helpers/journey.js';
import { ADA, auditedLogins, registerTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// The console's lists in Chromium, with the pages' real CSP: the request id on a learner's error
// page finds their attempt, also one that failed before a tenant was known (unknown organisation,
// unregistered return URL, a callback without the browser's transaction), with its error code and the step it failed at; logins and changes name
// and link tenants, connections and apps, changes filter by tenant, and times read as people read
// them with the exact UTC time beside.

t.test(
  'a learner’s request id finds their attempt, also one that failed before a tenant was known',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
    });
    const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
    await broker.admin('POST', '/admin/tenants', { slug: 'initech', name: 'Initech' }); // no connection
    await broker.admin('PATCH', `/admin/apps/${scenario.app.id}`, { tenants: null });
    const browser = await launch(t);
    const learnerContext = await browser.newContext();
    const learnerJourney = await watch(learnerContext, t);
    const learner = await learnerContext.newPage();
    /** The learner meets an error page at `path`: the request id it shows. */
    const errorPage = async (path: string, query: URLSearchParams) => {
      learnerJourney.expectErrorPage(400, path);
      await learner.goto(`${broker.url}${path}?${query}`);
      const reference = (await learner.locator('.ref').textContent()) ?? '';
      const id = /request (\S+)/.exec(reference)?.[1];
      t.ok(id, `the error page shows a request id (${reference.trim()})`);
      return id!;
    };
    const failedLogin = (params: Record<string, string>) =>
      errorPage(
        '/api/sso/login',
        new URLSearchParams({ app: scenario.app.id, return_to: scenario.returnTo, ...params }),
      );
    const attempts = [
      { id: await failedLogin({ tenant: 'umbrela' }), error: 'unknown_tenant', step: 'tenant', tenant: 'no tenant' },
      { id: await failedLogin({ tenant: 'initech' }), error: 'no_connection', step: 'connection', tenant: 'Initech' },
      {
        // Back from the IdP without this browser's transaction cookie (blocked, or another browser).
        id: await errorPage(
          `/api/sso/callback/${scenario.connectionId}`,
          new URLSearchParams({ state: 'not-this-browsers', code: 'x' }),
        ),
        error: 'invalid_state',
        step: 'transaction',
        tenant: 'no tenant',
      },
      {
        id: await failedLogin({ tenant: scenario.tenant, return_to: 'https://evil.test/' }),
        error: 'invalid_return_to',
        step: 'return_to',
        tenant: 'no tenant',
      },
    ];
    const recorded = async () =>
      (
        await broker.database.pool.query('SELECT 1 FROM login_attempts WHERE request_id = ANY($1)', [
          attempts.map((a) => a.id),
        ])
      ).rowCount === attempts.length;
    t.ok(await waitFor(recorded, 3_000), 'each attempt is recorded');

    const { page, journey } = await operator(t, browser, broker);
    await page.getByRole('link', { name: 'Logins' }).click();
    for (const attempt of attempts) {
      await page.getByLabel('Request id').fill(attempt.id);
      await page.getByRole('button', { name: 'Filter' }).click();
      const row = page.getByRole('row', { name: new RegExp(attempt.id) });
      await row.waitFor();
      const text = (await row.textContent()) ?? '';
      t.match(text, attempt.error, `${attempt.error}: its error code`);
      t.equal(await row.locator('td').nth(6).textContent(), attempt.step, `${attempt.error}: the step it failed at`);
      t.match(text, attempt.tenant, `${attempt.error}: under ${attempt.tenant}`);
      t.match(text, 'failure');
    }
    t.match(
      await page
        .getByRole('row', { name: new RegExp(attempts[3]!.id) })
        .getByRole('link')
        .first()
        .textContent(),
      /App for/,
      'the app is named',
    );
    await page.getByLabel('Request id').fill('');
    await page.getByLabel('Tenant').selectOption({ label: 'no tenant (failed before one was known)' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('row', { name: new RegExp(attempts[0]!.id) }).waitFor();
    t.equal(await page.locator('tbody tr').count(), 3, 'the attempts without a tenant, and only those');
    t.same(await seriousViolations(page), [], 'the logins: no serious or critical accessibility violation');
    journey.assertClean(t);
    learnerJourney.assertClean(t, 'the learner’s error pages');
  },
);

t.test(
  'logins and changes name and link what they mention, filter changes by tenant, and read times',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
    });
    const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
    const other = await registerTenant(broker, idp, { method: 'client_secret_post' });
    await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email as string, scenario.returnTo);
    await auditedLogins(broker, scenario.tenant, 1);
    const browser = await launch(t);
    const { page, journey } = await operator(t, browser, broker);

    await page.getByRole('link', { name: 'Logins' }).click();
    const row = page.getByRole('row', { name: /success/ });
    const text = (await row.textContent()) ?? '';
    t.notMatch(text, scenario.connectionId, 'no connection id');
    t.notMatch(text, scenario.app.id, 'no app id');
    t.equal(
      await row.getByRole('link', { name: `Tenant ${scenario.tenant}` }).getAttribute('href'),
      `/console/tenants/${scenario.tenant}`,
    );
    t.equal(
      await row.getByRole('link', { name: idp.issuer }).getAttribute('href'),
      `/console/connections/${scenario.connectionId}`,
    );
    t.equal(
      await row.getByRole('link', { name: `App for ${scenario.tenant}` }).getAttribute('href'),
      `/console/apps#app-${scenario.app.id}`,
    );
    const time = row.locator('time');
    t.match(await time.textContent(), /^(just now|\d+ minutes? ago)$/, 'a human time');
    t.match(await time.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the exact UTC time');
    t.equal(await time.getAttribute('title'), await time.getAttribute('datetime'), 'on hover too');

    await page.getByRole('link', { name: 'Changes' }).click();
    await page.getByLabel('Tenant').selectOption({ label: `Tenant ${scenario.tenant}` });
    await page.getByRole('button', { name: 'Filter' }).click();
    const body = (await page.locator('tbody').textContent()) ?? '';
    t.match(body, `connection ${idp.issuer}`, 'the connection, by its issuer');
    t.notMatch(body, scenario.connectionId, 'no connection id');
    t.notMatch(body, other.tenant, 'only that tenant’s changes');
    t.equal(await page.locator('tbody tr').count(), 2, 'its tenant and its connection');
    t.same(await seriousViolations(page), [], 'the changes: no serious or critical accessibility violation');
    journey.assertClean(t);
  },
);
