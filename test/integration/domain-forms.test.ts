import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, hiddenInputs } from '../helpers/browser.js';
import { startDnsServer } from '../helpers/dns-server.js';

// The verified-domain forms of a setup link and of the console, through plain HTTP: a setup
// link's holder claims and verifies by DNS only — whatever they post, a domain is never verified
// without its TXT record — and both pages' forms need their CSRF token and this broker's origin.

const dns = await startDnsServer(t);
const broker = await startBroker(t, { dnsServers: [dns.server] });

type Claim = { domain: string; verified: boolean; txt: { name: string; value: string } };
const domainsOf = async (slug: string) =>
  (await broker.admin('GET', `/admin/tenants/${slug}/domains`)).body.domains as Claim[];
const domainChanges = async () =>
  ((await broker.admin('GET', '/admin/changes?resource=domain')).body.changes as { action: string }[]).map(
    (c) => c.action,
  );
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

/** A tenant with a setup link: its page's URL and CSRF token. */
async function linkFor(slug: string) {
  t.equal((await broker.admin('POST', '/admin/tenants', { slug, name: `Org ${slug}` })).status, 201);
  const { url } = (await broker.admin('POST', `/admin/tenants/${slug}/setup-links`, {})).body as { url: string };
  const csrf = hiddenInputs(await (await new TestBrowser().request(url)).text()).csrf ?? '';
  t.ok(csrf, 'the page carries its token');
  return { url, csrf };
}

t.test('a setup link never verifies a domain without its TXT record, whatever it posts', async (t) => {
  const { url, csrf } = await linkFor('initech');
  const added = await post(`${url}/domains`, new URLSearchParams({ csrf, domain: 'initech.example' }).toString());
  t.equal(added.status, 303, 'claimed');
  t.equal(added.headers.get('location'), `${new URL(url).pathname}?added=initech.example#domains`);
  const verify = `${url}/domains/initech.example/verify`;
  const attempts: [string, string, Record<string, string>][] = [
    ['force=yes', new URLSearchParams({ csrf, force: 'yes' }).toString(), {}],
    ['force=true', new URLSearchParams({ csrf, force: 'true' }).toString(), {}],
    ['force twice', `csrf=${csrf}&force=true&force=1`, {}],
    ['JSON force: true', JSON.stringify({ csrf, force: true }), { 'content-type': 'application/json' }],
  ];
  for (const [what, body, headers] of attempts) {
    const answer = await post(verify, body, headers);
    t.equal(answer.status, 409, `${what}: not verified`);
    t.match(await answer.text(), 'found no TXT record there', `${what}: the page says what DNS answered`);
  }
  t.same(
    (await domainsOf('initech')).map((c) => c.verified),
    [false],
    'still unverified',
  );
  t.same(await domainChanges(), ['create'], 'only the claim is in the change log');

  // Its record published, the same form verifies it.
  const [claim] = await domainsOf('initech');
  dns.txt.set(claim!.txt.name, [claim!.txt.value]);
  const verified = await post(verify, new URLSearchParams({ csrf }).toString());
  t.equal(verified.status, 303);
  t.equal(verified.headers.get('location'), `${new URL(url).pathname}?verified=initech.example#domains`);
  t.same(
    (await domainsOf('initech')).map((c) => c.verified),
    [true],
  );
});

t.test('a setup link’s notices say only what is true of the domain', async (t) => {
  const { url } = await linkFor('umbrella');
  const page = await (await new TestBrowser().request(`${url}?verified=umbrella.example&added=evil.example`)).text();
  t.notMatch(page, 'umbrella.example is verified', 'no claim: no notice');
  t.notMatch(page, 'evil.example', 'nothing from the query is shown');
});

t.test('the setup link’s domain forms take its CSRF token, and only from this broker', async (t) => {
  const { url, csrf } = await linkFor('globex');
  t.equal((await broker.admin('POST', '/admin/tenants/globex/domains', { domain: 'globex.example' })).status, 201);
  const [claim] = await domainsOf('globex');
  dns.txt.set(claim!.txt.name, [claim!.txt.value]);
  const forged: [string, Record<string, string>, Record<string, string>][] = [
    ['no token', {}, {}],
    ['another token', { csrf: 'x'.repeat(43) }, {}],
    ['another origin', { csrf }, { origin: 'https://evil.example' }],
    ['a cross-site post', { csrf }, { 'sec-fetch-site': 'cross-site' }],
  ];
  for (const [what, form, headers] of forged) {
    const add = await post(
      `${url}/domains`,
      new URLSearchParams({ ...form, domain: 'globex.test' }).toString(),
      headers,
    );
    t.equal(add.status, 403, `${what}: no claim`);
    const verify = await post(`${url}/domains/globex.example/verify`, new URLSearchParams(form).toString(), headers);
    t.equal(verify.status, 403, `${what}: no verification`);
  }
  t.same(
    (await domainsOf('globex')).map((c) => `${c.domain} ${c.verified}`),
    ['globex.example false'],
    'nothing changed',
  );
});

t.test('the console’s domain forms take the session’s CSRF token, and only from the console’s origin', async (t) => {
  t.equal(
    (await broker.admin('POST', '/admin/tenants', { slug: 'hooli', name: 'Hooli', domains: ['hooli.example'] })).status,
    201,
  );
  const operator = new TestBrowser();
  await operator.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  const cookie = await operator.jar.getCookieString(`${broker.url}/console`);
  const csrf = hiddenInputs(await (await operator.request(`${broker.url}/console/tenants/hooli`)).text()).csrf ?? '';
  t.ok(csrf, 'a console session');
  const forged: [string, Record<string, string>, Record<string, string>][] = [
    ['no token', { confirmed: 'yes' }, {}],
    ['another token', { confirmed: 'yes', csrf: 'x'.repeat(32) }, {}],
    ['another origin', { confirmed: 'yes', csrf }, { origin: 'https://evil.example' }],
    ['a cross-site post', { confirmed: 'yes', csrf }, { 'sec-fetch-site': 'cross-site' }],
  ];
  for (const [what, form, headers] of forged) {
    for (const action of ['verify', 'force', 'remove']) {
      const answer = await post(
        `${broker.url}/console/tenants/hooli/domains/hooli.example/${action}`,
        new URLSearchParams(form).toString(),
        { cookie, ...headers },
      );
      t.equal(answer.status, 403, `${what}: ${action} refused`);
    }
  }
  t.same(
    (await domainsOf('hooli')).map((c) => `${c.domain} ${c.verified}`),
    ['hooli.example false'],
    'nothing changed',
  );
  // A domain the tenant does not claim is offered no confirmation: the console's 404 page.
  const other = await post(
    `${broker.url}/console/tenants/hooli/domains/initech.example/force`,
    new URLSearchParams({ csrf }).toString(),
    { cookie },
  );
  t.equal(other.status, 404);
  const forced = await post(
    `${broker.url}/console/tenants/hooli/domains/hooli.example/force`,
    new URLSearchParams({ csrf, confirmed: 'yes' }).toString(),
    { cookie, origin: broker.url },
  );
  t.equal(forced.headers.get('location'), '/console/tenants/hooli?done=domain-forced#domains', 'from the console');
  t.same(
    (await domainsOf('hooli')).map((c) => c.verified),
    [true],
  );
});
