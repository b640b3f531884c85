import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import t from 'tap';
import { DnsTxt } from '../../src/domain/domains/dns-txt.js';
import { DomainRecheck } from '../../src/domain/domains/domain-recheck.js';
import { DomainRepo } from '../../src/domain/domains/domain.repo.js';
import { EventLogRepo } from '../../src/domain/events/event-log.repo.js';
import { Events } from '../../src/domain/events/events.service.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Contract v4, "Verified domains and 'is there SSO for this email?'": a domain routes learners
// and counts for restrictToDomains only once proven by its DNS TXT record (answered here by a
// DNS server on loopback); the first tenant to verify wins; public suffixes and free-mail
// domains are nobody's; discovery answers an app only about tenants it may use.

const CAROL = {
  sub: 'user-carol-0003',
  claims: { email: 'carol@restricted.example', email_verified: true, name: 'Carol' },
};
const dns = await startDnsServer(t);
const broker = await startBroker(t, { dnsServers: [dns.server] });
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA, CAROL],
});

type Domain = { domain: string; verified: boolean; verifiedAt?: string; txt: { name: string; value: string } };
const domainsOf = async (slug: string) =>
  (await broker.admin('GET', `/admin/tenants/${slug}/domains`)).body.domains as Domain[];
const verify = (slug: string, domain: string, body: unknown = {}) =>
  broker.admin('POST', `/admin/tenants/${slug}/domains/${domain}/verify`, body);
const discover = async (app: { id: string; secret: string }, email: string) => {
  const response = await fetch(`${broker.url}/api/sso/discover?${new URLSearchParams({ email })}`, {
    headers: { authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
/** Where a login by work email alone (no tenant) goes: the IdP when routed, an error page when not. */
const routedBy = async (scenario: Awaited<ReturnType<typeof registerTenant>>, email: string) => {
  const url = new URL(scenario.loginUrl({ login_hint: email }));
  url.searchParams.delete('tenant');
  const first = await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' } });
  return first.status;
};

t.test('a claimed domain routes nobody until its TXT record is exactly right', async (t) => {
  const scenario = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['acme.example'] },
    verifyDomains: false,
  });
  const [claim] = await domainsOf(scenario.tenant);
  t.match(claim, {
    domain: 'acme.example',
    verified: false,
    txt: { name: '_sso-broker-challenge.acme.example', value: /^sso-broker-domain-verification=[0-9a-f]{32}$/ },
  });
  t.notOk(claim && 'verifiedAt' in claim);
  t.not(await routedBy(scenario, 'ada@acme.example'), 200, 'unverified: login_hint does not route');
  t.same((await discover(scenario.app, 'ada@acme.example')).body, { sso: false }, 'nor discovery');

  const nothing = await verify(scenario.tenant, 'acme.example');
  t.equal(nothing.status, 409);
  t.equal(nothing.body.error, 'not_verified');
  t.match(nothing.body.error_description, 'found no TXT record there');

  dns.txt.set(claim!.txt.name, [`${claim!.txt.value} `, 'v=spf1 -all']);
  const wrong = await verify(scenario.tenant, 'acme.example');
  t.equal(wrong.status, 409, 'a trailing space is not exactly the value');
  t.match(wrong.body.error_description, `must be exactly ${claim!.txt.value}; found`);
  t.match(wrong.body.error_description, 'v=spf1 -all', 'says what was found');

  dns.txt.set(claim!.txt.name, ['v=spf1 -all', claim!.txt.value]);
  const right = await verify(scenario.tenant, 'acme.example');
  t.equal(right.status, 200);
  t.match(right.body, { domain: 'acme.example', verified: true, verifiedAt: String });
  t.equal(await routedBy(scenario, 'ada@acme.example'), 302, 'verified: login_hint routes to the IdP');
  t.same((await discover(scenario.app, 'Ada@ACME.example')).body, { sso: true, tenant: scenario.tenant });
  const events = (await broker.admin('GET', '/admin/events?type=domain.verified')).body.events;
  t.same(events.at(-1).data, { tenant: scenario.tenant, domain: 'acme.example', method: 'dns' });
});

t.test('restrictToDomains counts verified domains only', async (t) => {
  const scenario = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['restricted.example'], restrictToDomains: true },
    verifyDomains: false,
  });
  const login = () => signIn(new TestBrowser(), scenario.loginUrl(), CAROL.claims.email, scenario.returnTo);
  t.equal((await login()).searchParams.get('error'), 'domain_not_allowed', 'a claimed domain proves nothing');
  t.equal((await verify(scenario.tenant, 'restricted.example', { force: true })).status, 200);
  t.ok((await login()).searchParams.get('ticket'), 'once verified, its verified addresses sign in');
  // acme.example is verified by another tenant: refused to every other, on every write.
  const taken = await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain: 'acme.example' });
  t.equal(taken.status, 409);
  const patchTaken = await broker.admin('PATCH', `/admin/tenants/${scenario.tenant}`, {
    domains: ['restricted.example', 'acme.example'],
  });
  t.equal(patchTaken.status, 409, 'also on tenant writes');
  t.same(
    (await domainsOf(scenario.tenant)).map((d) => [d.domain, d.verified]),
    [['restricted.example', true]],
    'a tenant write keeps a verified domain verified',
  );
});

t.test('the race of two tenants verifying one domain ends with one owner', async (t) => {
  const one = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['race.example'] },
    verifyDomains: false,
  });
  const two = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['race.example'] },
    verifyDomains: false,
  });
  const [a] = await domainsOf(one.tenant);
  const [b] = await domainsOf(two.tenant);
  dns.txt.set(a!.txt.name, [a!.txt.value, b!.txt.value]);
  const answers = await Promise.all([verify(one.tenant, 'race.example'), verify(two.tenant, 'race.example')]);
  t.same(answers.map((r) => r.status).sort(), [200, 409], 'one wins, the other is told');
  const owners = [one, two].filter((_, i) => answers[i]!.status === 200);
  const losers = [one, two].filter((_, i) => answers[i]!.status !== 200);
  t.equal(owners.length, 1);
  t.same(await domainsOf(losers[0]!.tenant), [], 'the other claim is dropped');
  t.same(
    (await domainsOf(owners[0]!.tenant)).map((d) => d.verified),
    [true],
  );
});

t.test('public suffixes and free-mail domains are nobody’s: 400', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  for (const domain of ['co.uk', 'github.io', 'gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'proton.me']) {
    const response = await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain });
    t.equal(response.status, 400, domain);
  }
  const created = await broker.admin('POST', '/admin/tenants', { slug: 'freemail', name: 'x', domains: ['gmail.com'] });
  t.equal(created.status, 400, 'also when a tenant is created with it');
  t.equal(
    (await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain: 'eng.acme.co.uk' })).status,
    201,
    'an organisation’s domain below a public suffix is fine',
  );
  // Claims are bounded: a tenant holds at most 100 domains.
  for (let i = 1; i < 100; i++) {
    await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain: `d${i}.cap.example` });
  }
  const over = await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain: 'one-more.example' });
  t.equal(over.status, 409);
  t.match(over.body.error_description, 'at most 100 domains');
});

t.test('force: an admin verifies without DNS, and the change log says so', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  await broker.admin('POST', `/admin/tenants/${scenario.tenant}/domains`, { domain: 'forced.example' });
  const forced = await verify(scenario.tenant, 'forced.example', { force: true });
  t.equal(forced.status, 200);
  t.equal(forced.body.verified, true);
  const changes = (await broker.admin('GET', '/admin/changes?resource=domain')).body.changes;
  t.match(changes[0], {
    resource: 'domain',
    action: 'verify',
    id: `${scenario.tenant}/forced.example`,
    fields: ['force'],
  });
  const event = (await broker.admin('GET', '/admin/events?type=domain.verified')).body.events.at(-1);
  t.same(event.data, { tenant: scenario.tenant, domain: 'forced.example', method: 'force' });
  t.equal((await broker.admin('DELETE', `/admin/tenants/${scenario.tenant}/domains/forced.example`)).status, 204);
  t.equal((await verify(scenario.tenant, 'forced.example')).status, 404);
});

t.test('discovery: only tenants the app may use, only with an enabled connection; bounded', async (t) => {
  const mine = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['mine.example'] },
    verifyDomains: false,
  });
  const theirs = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['theirs.example'] },
    verifyDomains: false,
  });
  await verify(mine.tenant, 'mine.example', { force: true });
  await verify(theirs.tenant, 'theirs.example', { force: true });
  t.same((await discover(mine.app, 'ada@mine.example')).body, { sso: true, tenant: mine.tenant });
  t.same(
    (await discover(mine.app, 'ada@theirs.example')).body,
    { sso: false },
    'a tenant this app may not use is never named',
  );
  for (const malformed of [
    '',
    'no-at-sign',
    '@mine.example',
    'ada@',
    'ada@not a domain',
    `ada@${'a'.repeat(400)}.example`,
  ]) {
    t.same((await discover(mine.app, malformed)).body, { sso: false }, JSON.stringify(malformed.slice(0, 20)));
  }
  await broker.admin('PATCH', `/admin/connections/${mine.connectionId}`, { enabled: false });
  t.same((await discover(mine.app, 'ada@mine.example')).body, { sso: false }, 'no enabled connection: no SSO');
  const anonymous = await fetch(`${broker.url}/api/sso/discover?email=ada@mine.example`);
  t.equal(anonymous.status, 401);
  t.equal((await discover({ id: mine.app.id, secret: 'wrong' }, 'ada@mine.example')).status, 401);

  // A flood from one app: refused past its limit, another app and its redemptions unaffected.
  const limited = await startBroker(
    t,
    { dnsServers: [dns.server], rateLimitPerMinute: 30 },
    {
      databaseUrl: broker.config.databaseUrl,
    },
  );
  const ask = (app: { id: string; secret: string }) =>
    fetch(`${limited.url}/api/sso/discover?email=ada@${Math.random().toString(36).slice(2)}.example`, {
      headers: { authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}` },
    }).then((r) => r.status);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const statuses = await Promise.all(Array.from({ length: 200 }, () => ask(mine.app)));
  delay.disable();
  t.ok(statuses.filter((s) => s === 200).length <= 30, 'at most the limit answered');
  t.ok(statuses.filter((s) => s === 429).length >= 170, 'the rest refused with 429');
  t.equal(await ask(theirs.app), 200, 'another app is not affected');
  t.ok(delay.max / 1e6 < 500, `no stall (max ${Math.round(delay.max / 1e6)} ms)`);
});

t.test('re-verification: a TXT record missing twice in a row unverifies the domain, and says so', async (t) => {
  const scenario = await registerTenant(broker, idp, {
    method: 'client_secret_post',
    tenant: { domains: ['recheck.example'] },
    verifyDomains: false,
  });
  const [claim] = await domainsOf(scenario.tenant);
  dns.txt.set(claim!.txt.name, [claim!.txt.value]);
  t.equal((await verify(scenario.tenant, 'recheck.example')).status, 200);
  // The broker's own job runs hourly; this one is the same code on the same database, run now.
  const registry = new Registry();
  const warnings: object[] = [];
  const job = (servers: string[], metrics: Registry) =>
    new DomainRecheck({
      repo: new DomainRepo(broker.database.pool),
      dns: new DnsTxt(servers),
      events: new Events({ repo: new EventLogRepo(broker.database.pool) }),
      registry: metrics,
      log: { warn: (obj) => void warnings.push(obj) },
    });
  const jobs = { answering: job([dns.server], registry), deaf: job(['127.0.0.1:1'], new Registry()) };
  const recheck = (which: keyof typeof jobs = 'answering') => jobs[which].run();
  const dayLater = () =>
    broker.database.pool.query(
      `UPDATE tenant_domains SET checked_at = now() - interval '25 hours' WHERE domain = 'recheck.example'`,
    );
  t.equal(await recheck(), 0, 'not due yet: checked when verified');
  dns.txt.delete(claim!.txt.name);
  await dayLater();
  t.equal(await recheck(), 0, 'a first miss: still verified');
  dns.txt.set(claim!.txt.name, [claim!.txt.value]);
  await dayLater();
  t.equal(await recheck(), 0, 'found again: the count starts over');
  dns.txt.delete(claim!.txt.name);
  await dayLater();
  t.equal(await recheck('deaf'), 0, 'DNS servers that do not answer count for nothing');
  await dayLater();
  t.equal(await recheck(), 0, 'a miss');
  t.equal((await domainsOf(scenario.tenant))[0]?.verified, true);
  await dayLater();
  t.equal(await recheck(), 1, 'the second miss in a row');
  t.equal((await domainsOf(scenario.tenant))[0]?.verified, false, 'unverified');
  t.match(warnings, [{ tenant: scenario.tenant, domain: 'recheck.example' }], 'the log says so');
  t.match(await registry.metrics(), /sso_domains_unverified_total 1/, 'and the metric');
  const event = (await broker.admin('GET', '/admin/events?type=domain.unverified')).body.events.at(-1);
  t.same(event.data, { tenant: scenario.tenant, domain: 'recheck.example' }, 'and the event');
  t.same((await discover(scenario.app, 'ada@recheck.example')).body, { sso: false }, 'it routes nobody');
});
