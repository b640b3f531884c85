import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { packageRoot } from '../../src/config/local.js';
import { seriousViolations } from '../helpers/accessibility.js';
import { startBroker } from '../helpers/broker.js';
import { ARTIFACTS, launch, missing } from '../helpers/chromium.js';
import { operator } from '../helpers/console.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { watch } from '../helpers/journey.js';

// Verified domains in Chromium, with the pages' real CSP (a violation, a console error or an
// uncaught error fails the journey) and axe-core's checks. An IdP engineer, with a setup link,
// claims their organisation's domain, sees the TXT record to publish, tries to verify before
// publishing it (and reads what the broker found), publishes it (in the DNS server on loopback
// the broker asks), verifies it; a free-mail domain is refused, saying why. An operator, in the
// console, sees a tenant's domains with their state, verifies one by DNS, marks another verified
// without DNS and removes one (both confirmed first); every write is in the change log.

const README_SHOTS = join(packageRoot(), 'docs/screenshots');

type Claim = { domain: string; verified: boolean; verifiedAt?: string; txt: { name: string; value: string } };
type Change = { actor: string; resource: string; id: string; action: string; fields: string[] };

const dns = await startDnsServer(t);
const broker = await startBroker(t, { dnsServers: [dns.server] });
const domainsOf = async (slug: string) =>
  (await broker.admin('GET', `/admin/tenants/${slug}/domains`)).body.domains as Claim[];
const domainChanges = async () =>
  ((await broker.admin('GET', '/admin/changes?resource=domain')).body.changes as Change[]).map((c) =>
    `${c.actor} ${c.action} ${c.id} ${c.fields.join(',')}`.trim(),
  );
const shot = async (t: Test, target: Page | Locator, page: Page, name: string) => {
  t.same(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);
  await target.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  // UPDATE_SCREENSHOTS=1 also refreshes the docs' copy.
  if (process.env.UPDATE_SCREENSHOTS) {
    await mkdir(README_SHOTS, { recursive: true });
    await copyFile(join(ARTIFACTS, `${name}.png`), join(README_SHOTS, `${name}.png`));
  }
};

t.test('an IdP engineer verifies their organisation’s domain from the setup link', { skip: missing }, async (t) => {
  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'northwind', name: 'Northwind' })).status, 201);
  const link = (await broker.admin('POST', '/admin/tenants/northwind/setup-links', {})).body as {
    id: string;
    url: string;
  };
  const base = new URL(link.url).pathname;
  const browser = await launch(t);
  const context = await browser.newContext();
  const journey = await watch(context, t);
  const page = await context.newPage();
  await page.goto(link.url);
  const section = page.getByRole('region', { name: 'Your organisation’s email domains' });
  t.match(await section.textContent(), 'Until a domain is verified by its DNS record, it sends nobody anywhere', 'why');
  t.match(await section.textContent(), 'No domain yet', 'and that there is none yet');

  // A free-mail domain: refused, saying why, with what was typed kept.
  journey.expectErrorPage(400, `${base}/domains`);
  await section.getByLabel('Add a domain').fill('gmail.com');
  await section.getByRole('button', { name: 'Add domain' }).click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  t.match(await refusal.textContent(), "gmail.com is a free email provider's: anyone can have an address there");
  t.equal(await section.getByLabel('Add a domain').inputValue(), 'gmail.com', 'what was typed, kept');
  t.same(await domainsOf('northwind'), [], 'nothing claimed');

  // Claimed: its TXT record to publish, with copy buttons.
  await section.getByLabel('Add a domain').fill('Northwind.example');
  await section.getByRole('button', { name: 'Add domain' }).click();
  await section.getByText('northwind.example is added. Publish its TXT record below, then verify it.').waitFor();
  const [claim] = await domainsOf('northwind');
  t.match(claim, { domain: 'northwind.example', verified: false }, 'an unverified claim');
  const item = section.getByRole('listitem').filter({ hasText: 'northwind.example' });
  t.match(await item.textContent(), 'not verified yet');
  t.equal(await item.getByRole('row', { name: /Name/ }).locator('code').textContent(), claim!.txt.name);
  t.equal(await item.getByRole('row', { name: /Value/ }).locator('code').textContent(), claim!.txt.value);
  t.ok(await item.locator(`button[data-copy="${claim!.txt.value}"]`).isVisible(), 'the value has its copy button');

  // Verified before the record is published: the lookup's answer, and nothing changes.
  journey.expectErrorPage(409, `${base}/domains/northwind.example/verify`);
  await item.getByRole('button', { name: 'Verify northwind.example' }).click();
  await refusal.waitFor();
  t.match(await refusal.textContent(), `The TXT record at ${claim!.txt.name} must be exactly ${claim!.txt.value}`);
  t.match(await refusal.textContent(), 'found no TXT record there', 'says what was found');
  t.same(await seriousViolations(page), [], 'the refusal: no serious or critical accessibility violation');
  t.equal((await domainsOf('northwind'))[0]?.verified, false, 'still unverified');

  // Published, then verified.
  dns.txt.set(claim!.txt.name, [claim!.txt.value]);
  await item.getByRole('button', { name: 'Verify northwind.example' }).click();
  await section.getByText('northwind.example is verified').waitFor();
  t.match(await item.textContent(), /✓ verified on \d+ \w+ \d{4}/, 'shown verified, since when');
  t.equal(await item.getByRole('button').count(), 0, 'nothing more to do for it');
  t.equal((await domainsOf('northwind'))[0]?.verified, true, 'verified for the broker');

  // A second domain, still to publish, beside the verified one: the docs' picture.
  await section.getByLabel('Add a domain').fill('northwind-learning.example');
  await section.getByRole('button', { name: 'Add domain' }).click();
  await section.getByText('northwind-learning.example is added.').waitFor();
  await shot(t, section, page, 'setup-domains');

  t.same(
    await domainChanges(),
    [
      `setup-link:${link.id} create northwind/northwind-learning.example domain`,
      `setup-link:${link.id} verify northwind/northwind.example`,
      `setup-link:${link.id} create northwind/northwind.example domain`,
    ],
    'each write is in the change log, with the link as actor',
  );
  journey.assertClean(t);
});

t.test('an operator verifies, forces and removes a tenant’s domains in the console', { skip: missing }, async (t) => {
  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Acme' })).status, 201);
  const browser = await launch(t);
  const { page, journey } = await operator(t, browser, broker);
  await page.getByRole('link', { name: 'Acme' }).click();
  await page.getByRole('heading', { name: 'Tenant Acme' }).waitFor();
  t.match(await page.locator('.empty').first().textContent(), 'No email domain', 'none yet: what to do');

  // Claimed through the tenant's domains field, as before: now unverified, each with its record.
  await page.getByLabel('Email domains (comma-separated)').fill('acme.example, acme-labs.example');
  await page.getByRole('button', { name: 'Save tenant' }).click();
  await page.getByText('The tenant is saved.').waitFor();
  const claims = new Map((await domainsOf('acme')).map((c) => [c.domain, c]));
  const row = (domain: string) => page.getByRole('row', { name: new RegExp(`^${domain.replace('.', '\\.')} `) });
  for (const domain of ['acme.example', 'acme-labs.example']) {
    t.match(await row(domain).textContent(), 'not verified', `${domain}: not verified`);
    t.match(await row(domain).textContent(), claims.get(domain)!.txt.value, `${domain}: its TXT record`);
  }
  t.same(await seriousViolations(page), [], 'the tenant’s domains: no serious or critical accessibility violation');
  await page.screenshot({ path: join(ARTIFACTS, 'console-domains.png'), fullPage: true });

  // By DNS: refused until the record is there, saying what was found; then verified.
  journey.expectErrorPage(409, '/console/tenants/acme/domains/acme.example/verify');
  await row('acme.example').getByRole('button', { name: 'Verify by DNS' }).click();
  await page.getByRole('alert').getByText('found no TXT record there').waitFor();
  const acme = claims.get('acme.example')!;
  dns.txt.set(acme.txt.name, [acme.txt.value]);
  await row('acme.example').getByRole('button', { name: 'Verify by DNS' }).click();
  await page.getByText('The domain is verified by its TXT record').waitFor();
  t.match(await row('acme.example').textContent(), /verified just now/, 'verified, and when');

  // Without DNS: the confirmation says what it means first.
  await row('acme-labs.example').getByRole('button', { name: 'Mark verified without DNS' }).click();
  await page.getByRole('heading', { name: 'Mark acme-labs.example verified without DNS?' }).waitFor();
  t.match(await page.getByRole('alert').textContent(), 'Nothing has proved that Acme controls acme-labs.example');
  t.same(await seriousViolations(page), [], 'the confirmation: no serious or critical accessibility violation');
  t.equal(claims.size, 2);
  t.equal((await domainsOf('acme')).find((c) => c.domain === 'acme-labs.example')?.verified, false, 'not before');
  await page.getByRole('button', { name: 'Mark verified without DNS' }).click();
  await page.getByText('The domain is marked verified (without DNS)').waitFor();
  t.match(await row('acme-labs.example').textContent(), /verified just now/);

  // Removed, after its confirmation.
  await row('acme.example').getByRole('button', { name: 'Remove' }).click();
  t.match(await page.getByRole('alert').textContent(), 'are no longer sent to Acme’s sign-in');
  await page.getByRole('button', { name: 'Remove acme.example' }).click();
  await page.getByText('The domain is removed from this tenant').waitFor();
  t.equal(await row('acme.example').count(), 0, 'gone from the page');
  t.same(
    (await domainsOf('acme')).map((c) => `${c.domain} ${c.verified}`),
    ['acme-labs.example true'],
    'and from the broker',
  );

  // The tenant's changes in the console list them too.
  await page.goto(`${broker.url}/console/changes?tenant=acme`);
  t.match(await page.getByRole('row', { name: /acme\/acme-labs\.example/ }).textContent(), /Acme.*verify.*force/s);
  const changes = (await domainChanges()).filter((c) => c.includes(' acme/'));
  t.same(
    changes,
    [
      'admin token delete acme/acme.example',
      'admin token verify acme/acme-labs.example force',
      'admin token verify acme/acme.example',
    ],
    'each write is in the change log as the admin API records it (force for the forced one)',
  );
  journey.assertClean(t);
});
