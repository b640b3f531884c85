import t from 'tap';
import { launch, missing } from '../helpers/chromium.js';
import { startBroker } from '../helpers/broker.js';
import { watch } from '../helpers/journey.js';

// The API reference page (Swagger UI, /admin/reference/) in Chromium under its own headers —
// its real CSP, as strict as every other page's (nothing from elsewhere, no wildcard, no
// framing) — and the page still renders the whole document without one violation or console
// error (test/helpers/journey.ts watches), nor a failed request.

/** The directives of a CSP header, by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

t.test(
  'the API reference renders under a strict CSP, with no violation and no console error',
  { skip: missing },
  async (t) => {
    const broker = await startBroker(t);
    const browser = await launch(t);
    const context = await browser.newContext(); // the page's own CSP applies
    const journey = await watch(context, t);
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`failed: ${request.url()} ${request.failure()?.errorText}`));

    const response = await page.goto(`${broker.url}/admin/reference/`);
    t.equal(response?.status(), 200);
    const headers = response!.headers();
    const csp = directives(headers['content-security-policy'] ?? '');
    t.same(csp.get('default-src'), ["'none'"], 'nothing by default');
    t.same(csp.get('frame-ancestors'), ["'none'"], 'never framed');
    t.same(csp.get('base-uri'), ["'none'"]);
    t.same(csp.get('object-src') ?? csp.get('default-src'), ["'none'"]);
    // Only this broker, pinned inline styles, and data: images (Swagger UI's CSS icons): no host,
    // no scheme wildcard, nothing unsafe.
    const allowed = (name: string, value: string) =>
      ["'self'", "'none'"].includes(value) ||
      /^'sha256-[A-Za-z0-9+/]+=*'$/.test(value) ||
      (name === 'img-src' && value === 'data:');
    for (const [name, values] of csp) {
      t.same(
        values.filter((value) => !allowed(name, value)),
        [],
        `${name}: only 'self', 'none' and hashes (${values.join(' ')})`,
      );
    }
    t.equal(headers['x-frame-options'], 'DENY');
    t.equal(headers['x-content-type-options'], 'nosniff');
    t.equal(headers['referrer-policy'], 'no-referrer');

    // It renders: the document's title, a tag, and an operation opened with its schemas.
    await page.getByRole('heading', { name: /SSO broker/ }).waitFor();
    const block = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/admin/tenants"]') });
    const operation = block.locator('.opblock-summary').first();
    await operation.waitFor();
    await operation.click();
    await block.locator('.opblock-body').waitFor();
    // Authorize with the admin token, try it out: the request goes to this broker
    // (connect-src), its answer is rendered.
    await page.locator('.auth-wrapper button.authorize').click();
    const bearer = page.locator('.modal-ux input[aria-label="auth-bearer-value"]').first();
    await bearer.fill(broker.adminToken);
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').first().click();
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').first().click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    await block.getByRole('button', { name: 'Execute' }).click();
    await block.getByText('Server response').waitFor();
    const status = block.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    t.match(await status.textContent(), '200', 'the broker answered the page');
    await page.locator('.models, section.models').first().scrollIntoViewIfNeeded();
    // Let anything the page still does settle, then look.
    await page.waitForLoadState('networkidle');
    journey.assertClean(t, 'the API reference');
    t.same(failed, [], 'no failed request');
  },
);
