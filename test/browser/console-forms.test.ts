import t from 'tap';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { launch, missing } from '../helpers/chromium.js';
import { operator } from '../helpers/console.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// The console's forms in Chromium, with the pages' real CSP (a violation, a console error or an
// uncaught error fails a journey): a refused tenant or app says what is wrong beside its field and
// keeps what was typed; a tenant's name and domains, a connection's switches and an app's return
// URLs and tenants are edited in the console, and each edit is in the change log as the API's are.

t.test(
  'a refused tenant or app says what is wrong beside its field, and keeps what was typed',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const browser = await launch(t);
    const { page, journey } = await operator(t, browser, broker);

    // The browser's own check of the slug works (its pattern compiles under the `v` flag).
    const slug = page.getByLabel('Slug');
    await slug.fill('Umbrella Corp');
    t.ok(
      await slug.evaluate(
        (input) => (input as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch,
      ),
      'the browser refuses a slug with capitals and a space',
    );
    // What the broker says when the browser does not check (an old browser, a script).
    await page.getByRole('form', { name: 'New tenant' }).evaluate((form) => {
      (form as unknown as { noValidate: boolean }).noValidate = true;
    });
    await page.getByLabel('Name', { exact: true }).fill('Umbrella Corporation');
    await page.getByLabel(/Email domains/).fill('umbrella.example');
    journey.expectErrorPage(400, '/console/tenants');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('alert').waitFor();
    t.match(await page.getByRole('alert').textContent(), 'The tenant was not created.');
    t.match(
      await page.locator('#t-slug-error').textContent(),
      'lowercase letters, digits and inner hyphens',
      'beside the slug',
    );
    t.equal(await page.getByLabel('Slug').getAttribute('aria-invalid'), 'true');
    t.equal(await page.getByLabel('Slug').inputValue(), 'Umbrella Corp', 'the slug as typed');
    t.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Umbrella Corporation', 'the name as typed');
    t.equal(await page.getByLabel(/Email domains/).inputValue(), 'umbrella.example', 'the domains as typed');
    t.same(await seriousViolations(page), [], 'the refused form: no serious or critical accessibility violation');
    await page.getByLabel('Slug').fill('umbrella');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByText('Tenant Umbrella Corporation created').waitFor();

    // A typo'd tenant on a new app: named beside the field, and the app's fields kept.
    await page.getByRole('link', { name: 'Apps' }).click();
    const form = page.getByRole('form', { name: 'New app' });
    await form.getByLabel('Name', { exact: true }).fill('Umbrella LMS');
    await form.getByLabel(/Return URLs/).fill('https://lms.umbrella.test/sso');
    await form.getByLabel(/Tenants/).fill('umbrela');
    journey.expectErrorPage(400, '/console/apps');
    await form.getByRole('button', { name: 'Create app' }).click();
    await page.getByText('The app was not created.').waitFor();
    t.match(await page.locator('#a-tenants-error').textContent(), 'no tenant "umbrela"', 'beside the tenants');
    const kept = page.getByRole('form', { name: 'New app' });
    t.equal(await kept.getByLabel(/Return URLs/).inputValue(), 'https://lms.umbrella.test/sso', 'the URLs as typed');
    t.equal(await kept.getByLabel(/Tenants/).inputValue(), 'umbrela', 'the tenants as typed, to correct');
    t.equal(await page.getByRole('link', { name: 'Back to the tenants' }).count(), 0, 'no way out to another page');
    await kept.getByLabel(/Tenants/).fill('umbrella');
    await kept.getByRole('button', { name: 'Create app' }).click();
    await page.getByLabel(/Secret of app/).waitFor();
    journey.assertClean(t);
  },
);

t.test(
  'operators edit a tenant, a connection’s switches and an app in the console, audited',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const idp = await startIdp(t, {
      redirectUri: broker.config.callbackUrl,
      brokerJwks: broker.keys.jwks(),
      accounts: [ADA],
    });
    const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
    await broker.admin('POST', '/admin/tenants', { slug: 'soylent', name: 'Soylent' });
    const browser = await launch(t);
    const { page, journey } = await operator(t, browser, broker);

    // A tenant's name and domains.
    await page.getByRole('link', { name: `Tenant ${scenario.tenant}` }).click();
    await page.getByLabel('Name', { exact: true }).fill('Acme Learning');
    await page.getByLabel(/Email domains/).fill('acme.example, acme-learning.example');
    await page.getByRole('button', { name: 'Save tenant' }).click();
    await page.getByText('The tenant is saved.').waitFor();
    const tenant = await broker.admin('GET', `/admin/tenants/${scenario.tenant}`);
    t.equal(tenant.body.name, 'Acme Learning');
    t.same([...tenant.body.domains].sort(), ['acme-learning.example', 'acme.example'], 'its domains');

    // A connection's switches: disabling asks first.
    await page.getByRole('link', { name: idp.issuer }).click();
    await page.getByLabel(/^Enabled/).uncheck();
    await page.getByRole('button', { name: 'Save switches' }).click();
    t.match(await page.getByRole('alert').textContent(), 'can sign in', 'says who cannot sign in');
    await page.getByRole('button', { name: 'Disable the connection' }).click();
    await page.getByText('switches are saved').waitFor();
    t.match((await broker.admin('GET', `/admin/connections/${scenario.connectionId}`)).body, { enabled: false });
    await page.getByLabel(/^Enabled/).check();
    await page.getByLabel(/^Default/).check();
    await page.getByRole('button', { name: 'Save switches' }).click();
    await page.getByText('switches are saved').waitFor();
    t.match((await broker.admin('GET', `/admin/connections/${scenario.connectionId}`)).body, {
      enabled: true,
      isDefault: true,
    });

    // An app's return URLs and allowed tenants.
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByText(`Edit App for ${scenario.tenant}`).click();
    const edit = page.getByRole('form', { name: `Edit App for ${scenario.tenant}` });
    await edit.getByLabel(/Return URLs/).fill(`${scenario.returnTo}, https://lms.acme.test/sso`);
    await edit.getByLabel(/Tenants/).fill(`${scenario.tenant}, soylent`);
    await edit.getByRole('button', { name: /^Save/ }).click();
    await page.getByText(/App App for .* is saved/).waitFor();
    const edited = (await broker.admin('GET', `/admin/apps/${scenario.app.id}`)).body;
    t.same([...edited.returnUrls].sort(), ['https://lms.acme.test/sso', scenario.returnTo].sort(), 'its return URLs');
    t.same([...edited.tenants].sort(), [scenario.tenant, 'soylent'].sort(), 'its tenants');

    const { changes } = (await broker.admin('GET', '/admin/changes?limit=10')).body;
    const written = changes
      .filter((c: { actor: string }) => c.actor === 'admin token')
      .map(
        (c: { resource: string; action: string; fields: string[] }) =>
          `${c.resource} ${c.action} ${c.fields.join(',')}`,
      );
    t.same(
      written.slice(0, 4),
      [
        'app update returnUrls,tenants',
        'connection update enabled,isDefault',
        'connection update enabled,isDefault',
        'tenant update domains,name',
      ],
      'each edit is in the change log, as the API records it',
    );
    t.same(await seriousViolations(page), [], 'the apps page: no serious or critical accessibility violation');
    journey.assertClean(t);
  },
);
