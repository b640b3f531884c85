import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// The console's Changes page filtered by tenant shows that tenant's latest changes, however many
// changes other tenants made since: the filter is part of the query, not a pass over the latest
// 200 entries of every tenant.

/** The Changes page as an operator signed in with the admin token sees it. */
async function changesPage(broker: TestBroker, query: string): Promise<string> {
  const browser = new TestBrowser();
  const signedIn = await browser.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  if (signedIn.status !== 303) throw new Error(`sign-in: ${signedIn.status}`);
  const page = await browser.request(`${broker.url}/console/changes${query}`);
  if (page.status !== 200) throw new Error(`changes: ${page.status}`);
  return page.text();
}

/** The page's table rows, each as its cells' text. */
const rows = (html: string) =>
  [...html.matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((m) =>
    (m[1] ?? '')
      .split(/<\/td>\s*<td>/)
      .map((cell) => cell.replace(/<[^>]+>/g, '').trim())
      .join(' | '),
  );

t.test("a quiet tenant's changes are found by the filter behind 200 of a busy tenant's", async (t) => {
  const broker = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const quiet = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const slug = quiet.tenant;
  t.equal((await broker.admin('PATCH', `/admin/tenants/${slug}`, { name: 'Quiet school' })).status, 200);
  const link = await broker.admin('POST', `/admin/tenants/${slug}/setup-links`, { note: 'for IT' });
  t.equal(link.status, 201);

  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'busy', name: 'Busy school' })).status, 201);
  for (let i = 0; i < 201; i++) {
    const patched = await broker.admin('PATCH', '/admin/tenants/busy', { name: `Busy school ${i}` });
    if (patched.status !== 200) throw new Error(`patch: ${patched.status}`);
  }

  const mine = rows(await changesPage(broker, `?tenant=${slug}`));
  t.equal(mine.length, 4, "the quiet tenant's four changes");
  t.ok(
    mine.every((row) => row.includes('Quiet school')),
    'each named by its tenant',
  );
  // Which is which, not their order: two writes may share a millisecond.
  const kinds = mine.map((row) =>
    /(tenant|connection|setup link)\b.*\b(create|update)\b/.exec(row)?.slice(1).join(' '),
  );
  t.same(
    kinds.sort(),
    ['connection create', 'setup link create', 'tenant create', 'tenant update'],
    'the tenant, its rename, its connection and its setup link',
  );

  const busy = rows(await changesPage(broker, '?tenant=busy'));
  t.equal(busy.length, 200, 'the page size stays 200');
  t.ok(
    busy.every((row) => row.includes('Busy school 200')),
    "only the busy tenant's",
  );
  t.equal(rows(await changesPage(broker, '')).length, 200, 'unfiltered: the latest 200 of all');
});
