import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { packageRoot } from '../../src/config/local.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { operator } from '../helpers/console.js';
import { testPool } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { answer, startWebhookReceiver } from '../helpers/webhook-receiver.js';

// The console's Webhooks page in Chromium, with the pages' real CSP (a violation, a console error
// or an uncaught error fails the journey) and axe-core's checks: an operator creates an endpoint
// for an app's local receiver (a refused form keeps what was typed and ticked), sees its secret
// once, sends a test event and sees its delivery listed with its status, retries it, sees a
// disabled endpoint's reason and enables it again, rotates the secret (the old one signs 24 h
// more) and deletes an endpoint (both confirmed first); each write is in the change log. And its
// forms, like every console form, need the session's CSRF token and the console's own origin.

const README_SHOTS = join(packageRoot(), 'docs/screenshots');
const REASON = 'Every delivery failed for 3 days, since 2026-12-04 09:12 UTC; enable it again once it answers.';

t.test('an operator runs webhook endpoints from the console', { skip: missing }, async (t) => {
  const broker = await startBroker(t, {}, { webhookQueue: { pollingIntervalSeconds: 0.5 } });
  const receiver = await startWebhookReceiver(t);
  const opsReceiver = await startWebhookReceiver(t);
  await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Acme' });
  const lms = await broker.admin('POST', '/admin/apps', {
    name: 'Acme LMS',
    returnUrls: ['https://lms.acme.test/sso'],
    tenants: ['acme'],
  });
  const browser = await launch(t);
  const { page, journey } = await operator(t, browser, broker);
  const shot = async (p: Page, name: string) => {
    t.same(await seriousViolations(p), [], `${name}: no serious or critical accessibility violation`);
    await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    // UPDATE_SCREENSHOTS=1 also refreshes the docs' copy.
    if (process.env.UPDATE_SCREENSHOTS)
      await copyFile(join(ARTIFACTS, `${name}.png`), join(README_SHOTS, `${name}.png`));
  };
  const open = () => page.goto(`${broker.url}/console/webhooks`);
  /** Reloads the page until the endpoint's deliveries show a row matching `row` (the worker delivers on its own time). */
  const listed = async (endpoint: () => Locator, row: RegExp) =>
    waitFor(async () => {
      await open();
      return (await endpoint().getByRole('row', { name: row }).count()) > 0;
    }, 15_000);

  // The way in, and what the page is for when there is nothing yet.
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  t.match(await page.locator('.empty').textContent(), 'tells another system what happens here', 'says what for');
  t.same(await seriousViolations(page), [], 'the empty page: no serious or critical accessibility violation');

  // A refused endpoint: what is wrong beside each field, what was typed and ticked kept.
  const form = () => page.getByRole('form', { name: 'New endpoint' });
  await form().getByLabel('URL').fill('ftp://lms.acme.test/hooks');
  await form().getByLabel('Description').fill('Acme LMS: sessions');
  await form().getByLabel('App').selectOption({ label: 'Acme LMS' });
  journey.expectErrorPage(400, '/console/webhooks');
  await form().getByRole('button', { name: 'Create endpoint' }).click();
  await page.getByText('The endpoint was not created.').waitFor();
  t.match(await page.locator('#w-url-error').textContent(), 'https', 'beside the URL');
  t.ok(await page.locator('#w-events-error').isVisible(), 'beside the events: none ticked');
  t.equal(await form().getByLabel('URL').inputValue(), 'ftp://lms.acme.test/hooks', 'the URL as typed');
  t.equal(await form().getByLabel('Description').inputValue(), 'Acme LMS: sessions', 'the description as typed');
  t.equal(await form().getByLabel('App').inputValue(), lms.body.id, 'the app as chosen');
  t.same(await seriousViolations(page), [], 'the refused form: no serious or critical accessibility violation');

  // Created: the secret once, and it is the one that signs.
  await form().getByLabel('URL').fill(receiver.url);
  await form().getByLabel('session.ended').check();
  await form().getByRole('button', { name: 'Create endpoint' }).click();
  const secretBox = page.getByLabel(/Signing secret of/);
  await secretBox.waitFor();
  t.match(await page.getByRole('status').textContent(), 'shown once: copy it now');
  const secret = await secretBox.inputValue();
  t.match(secret, /^whsec_/, 'the new secret');
  const [hook] = (await broker.admin('GET', '/admin/webhooks')).body;
  t.match(hook, { url: receiver.url, events: ['session.ended'], app: lms.body.id, description: 'Acme LMS: sessions' });
  await open();
  t.notOk((await page.content()).includes(secret), 'never shown again');
  const section = () => page.getByRole('region', { name: receiver.url });
  t.match(await section().textContent(), 'Acme LMS', 'its app, by name');
  t.equal(
    await section().getByRole('link', { name: 'Acme LMS' }).getAttribute('href'),
    `/console/apps#app-${lms.body.id}`,
  );
  t.match(await section().locator('.empty').textContent(), 'Send a test event', 'no delivery yet: what to do');

  // A test event: delivered, signed with that secret, and listed with its status.
  await section().getByRole('button', { name: 'Send test event' }).click();
  await page.getByText('A webhook.test event is on its way').waitFor();
  t.ok(await waitFor(() => receiver.received.length === 1), 'the receiver has it');
  const test = receiver.received[0]!;
  t.match(new Webhook(secret).verify(test.body, test.headers), { type: 'webhook.test' }, 'signed with the secret');
  t.ok(await listed(section, /webhook\.test.*HTTP 204/), 'the delivery is listed');
  const delivered = await section()
    .getByRole('row', { name: /webhook\.test/ })
    .textContent();
  t.match(delivered, /^webhook\.test\s*\S+\s*1\s*just now\s*HTTP 204\s*\d+ ms\s*—/, 'type, attempt, when, status, ms');

  // Retried now, at an endpoint that fails: the second attempt is listed with its status.
  receiver.behave(answer(503));
  await section().getByRole('button', { name: 'Retry' }).click();
  await page.getByText('The event is being delivered again').waitFor();
  t.ok(await waitFor(() => receiver.received.length === 2), 'delivered again');
  t.equal(receiver.received[1]!.headers['webhook-id'], test.headers['webhook-id'], 'the same event');
  t.ok(await listed(section, /^webhook\.test\s*\S+\s*2\s*.*HTTP 503/), 'attempt 2 is listed, HTTP 503');
  t.equal(await section().getByRole('button', { name: 'Retry' }).count(), 1, 'retry offered on the newest attempt');

  // A failed scheduled delivery says when the next attempt is.
  await section().getByRole('button', { name: 'Send test event' }).click();
  t.ok(await waitFor(() => receiver.received.length >= 3), 'a second test event');
  t.ok(await listed(section, /HTTP 503\s*\d+ ms\s*in /), 'with its next attempt');

  // An endpoint the broker disabled says why, and takes no test event until enabled again.
  const ops = await broker.admin('POST', '/admin/webhooks', {
    url: opsReceiver.url,
    events: ['connection.failing', 'connection.recovered', 'credential.expiring'],
    description: 'On-call pager',
  });
  const pool = testPool({ connectionString: broker.config.databaseUrl, max: 1 });
  t.teardown(() => pool.end());
  await pool.query(`UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1`, [
    ops.body.id,
    REASON,
  ]);
  await open();
  const disabled = () => page.getByRole('region', { name: opsReceiver.url });
  t.match(await disabled().locator('.box.err').textContent(), `Disabled: ${REASON}`, 'its reason, prominently');
  t.match(await disabled().textContent(), 'for the operators (no app)');
  t.equal(await disabled().getByRole('button', { name: 'Send test event' }).count(), 0, 'no test while disabled');
  await shot(page, 'console-webhooks');
  await disabled().getByRole('button', { name: 'Enable again' }).click();
  await page.getByText('The endpoint is enabled again').waitFor();
  const enabled = (await broker.admin('GET', `/admin/webhooks/${ops.body.id}`)).body;
  t.match(enabled, { enabled: true }, 'enabled');
  t.notOk('disabledReason' in enabled, 'its reason cleared');

  // Rotating the secret asks first; the new one is shown once, and the old one signs beside it.
  receiver.behave(answer(204));
  await section().getByRole('button', { name: 'Rotate secret' }).click();
  t.match(await page.getByRole('alert').textContent(), '24 hours more', 'says the old secret keeps signing 24 h');
  t.same(await seriousViolations(page), [], 'the confirmation: no serious or critical accessibility violation');
  await page.getByRole('button', { name: 'Rotate the secret' }).click();
  const rotatedBox = page.getByLabel(/Signing secret of/);
  await rotatedBox.waitFor();
  const rotated = await rotatedBox.inputValue();
  t.not(rotated, secret, 'a new secret');
  t.match(await page.getByRole('status').textContent(), 'signs every delivery beside this one for 24 hours more');
  // A new event (the failing one's scheduled retries may arrive too): both secrets sign it.
  const seen = new Set(receiver.received.map((r) => r.headers['webhook-id']));
  const fresh = () => receiver.received.find((r) => !seen.has(r.headers['webhook-id']));
  await open();
  await section().getByRole('button', { name: 'Send test event' }).click();
  t.ok(await waitFor(() => fresh() !== undefined), 'a third test event');
  const signed = fresh()!;
  for (const key of [secret, rotated]) t.doesNotThrow(() => new Webhook(key).verify(signed.body, signed.headers));

  // Deleting asks first.
  await disabled().getByRole('button', { name: 'Delete' }).click();
  t.match(await page.getByRole('alert').textContent(), 'receives no event from now on');
  await page.getByRole('button', { name: 'Delete the endpoint' }).click();
  await page.getByText('The webhook endpoint is deleted').waitFor();
  t.equal(await disabled().count(), 0, 'gone from the page');
  t.equal((await broker.admin('GET', `/admin/webhooks/${ops.body.id}`)).status, 404, 'and from the broker');

  const { changes } = (await broker.admin('GET', '/admin/changes?limit=20')).body;
  t.same(
    changes
      .filter((c: { resource: string }) => c.resource === 'webhook')
      .map((c: { action: string; fields: string[]; id: string }) => `${c.action} ${c.fields.join(',')} ${c.id}`),
    [
      `delete  ${ops.body.id}`,
      `rotate-secret secret ${hook.id}`,
      `update enabled ${ops.body.id}`,
      `create description,events,url ${ops.body.id}`,
      `create app,description,events,url ${hook.id}`,
    ],
    'each write is in the change log as the admin API records it',
  );
  journey.assertClean(t);
});

t.test('the webhook forms take the session’s CSRF token, and only from the console’s origin', async (t) => {
  const broker = await startBroker(t);
  const hook = (
    await broker.admin('POST', '/admin/webhooks', { url: 'http://127.0.0.1:9/hooks', events: ['connection.failing'] })
  ).body as { id: string };
  const browser = new TestBrowser();
  await browser.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  const cookie = await browser.jar.getCookieString(`${broker.url}/console/webhooks`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(
    await (await browser.request(`${broker.url}/console/webhooks`)).text(),
  )?.[1];
  t.ok(csrf, 'the page carries the token');
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${broker.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const remove = `/console/webhooks/${hook.id}/delete`;
  const forged: [string, Record<string, string>, Record<string, string>][] = [
    ['no token', { confirmed: 'yes' }, {}],
    ['another token', { confirmed: 'yes', csrf: 'x'.repeat(43) }, {}],
    ['another origin', { confirmed: 'yes', csrf: csrf! }, { origin: 'https://evil.example' }],
    ['a cross-site post', { confirmed: 'yes', csrf: csrf! }, { 'sec-fetch-site': 'cross-site' }],
  ];
  for (const [what, form, headers] of forged) {
    t.equal((await post(remove, form, headers)).status, 403, `${what}: refused`);
    t.equal(
      (await post(`/console/webhooks/${hook.id}/rotate-secret`, form, headers)).status,
      403,
      `${what}: no rotation`,
    );
  }
  t.equal((await broker.admin('GET', `/admin/webhooks/${hook.id}`)).status, 200, 'the endpoint is still there');
  const { changes } = (await broker.admin('GET', '/admin/changes?limit=20')).body;
  t.same(
    changes.filter((c: { resource: string; action: string }) => c.action !== 'create'),
    [],
    'nothing written',
  );
  const deleted = await post(remove, { confirmed: 'yes', csrf: csrf! }, { origin: broker.url });
  t.equal(deleted.headers.get('location'), '/console/webhooks?done=webhook-deleted', 'from the console: deleted');
  t.equal((await broker.admin('GET', `/admin/webhooks/${hook.id}`)).status, 404);
});
