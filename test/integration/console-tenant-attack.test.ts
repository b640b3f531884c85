import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs } from '../helpers/browser.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { startIdp } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA } from '../helpers/scenario.js';

// Issue 21: the console's tenant (CONSOLE_TENANT) signs operators in to the console. Whoever
// could point its connection at their own IdP could assert a listed email (or only the group
// CONSOLE_ADMINS names) and run the broker. So its connections change through the admin API
// only — no setup link is made for it, and one made earlier saves and activates nothing — and
// console sign-ins are pinned to an issuer: the one of its connection when the broker first
// started with CONSOLE_TENANT, or CONSOLE_ISSUER. An admin's change of the connection that
// moves the issuer does not carry console rights.

const ADMINS = [ADA.claims.email, 'group:broker-admins'];
/** Set-up outside any subtest: a failure stops the file. */
function must(answer: { status: number; body: any }, status: number) {
  if (answer.status !== status)
    throw new Error(`expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}
const databaseUrl = await testDatabaseUrl(t);

// Before CONSOLE_TENANT named it: the tenant, its connection to the organisation's real IdP,
// and setup links an operator sent out (to rotate a secret, as the README suggests).
const before = await startBroker(t, {}, { databaseUrl });
const idp = await startIdp(t, {
  redirectUri: before.config.callbackUrl,
  brokerJwks: before.keys.jwks(),
  accounts: [ADA],
  strictRedirectUris: true,
});
// The holder's IdP asserts what CONSOLE_ADMINS lists: Ada's verified email, and the group.
const rogue = await startRogueIdp(t, {
  evil: {
    claims: (claims) => ({ ...claims, email: ADA.claims.email, email_verified: true, groups: ['broker-admins'] }),
  },
});
must(await before.admin('POST', '/admin/tenants', { slug: 'ops', name: 'Operations' }), 201);
const created = await before.admin('POST', '/admin/tenants/ops/connections', {
  issuer: idp.issuer,
  clientId: idp.secretClient.clientId,
  clientSecret: idp.secretClient.clientSecret,
  tokenEndpointAuthMethod: 'client_secret_post',
});
const connectionId = must(created, 201).id as string;
type Link = { url: string; connection: string };
const linkToConnection: Link = must(
  await before.admin('POST', '/admin/tenants/ops/setup-links', { connection: connectionId }),
  201,
);
const linkToNewConnection: Link = must(await before.admin('POST', '/admin/tenants/ops/setup-links', {}), 201);

/** The broker with console SSO for `ops`, on the same database (and SECRET_KEY) as `before`. */
async function consoleBroker(consoleIssuer?: string, logs?: string[]) {
  const broker = await startBroker(
    t,
    { consoleTenant: 'ops', consoleAdmins: ADMINS, consoleIssuer, secretKeys: before.config.secretKeys },
    { databaseUrl, ...(logs && { captureLogs: logs }) },
  );
  idp.registerRedirectUri(`${broker.config.callbackUrl}/${connectionId}`);
  return broker;
}

const startLogs: string[] = [];
const broker = await consoleBroker(undefined, startLogs);

/** Where an answer sends the browser next: its redirect, or the continue page's link. */
function nextUrl(response: Response, page: string, url: string): string | undefined {
  const location = response.headers.get('location');
  const link = /<a href="([^"]+)">Continue<\/a>/.exec(page)?.[1]?.replaceAll('&amp;', '&');
  const next = location ?? (response.status === 200 ? link : undefined);
  return next === undefined ? undefined : new URL(next, url).href;
}

/** Follows redirects and continue pages from `url` to a page that goes nowhere by itself. */
async function walk(browser: TestBrowser, url: string, form?: Record<string, string>) {
  let at = url;
  let response = await browser.request(at, form && { form });
  for (let hop = 0; hop < 20; hop++) {
    const page = await response.text();
    const next = nextUrl(response, page, at);
    if (next === undefined) return { status: response.status, page, url: at };
    at = next;
    response = await browser.request(at);
  }
  throw new Error('too many hops');
}

/** "Sign in with single sign-on" on the console's sign-in page; `login` at the real IdP's form. */
async function consoleSso(target: TestBroker, login = ADA.claims.email) {
  const browser = new TestBrowser();
  let end = await walk(browser, `${target.url}/console/sign-in/sso`, {});
  if (end.url.startsWith(idp.issuer)) end = await walk(browser, formAction(end.page, end.url), { login });
  const console = await browser.request(`${target.url}/console/apps`);
  return { ...end, signedIn: console.status === 200, browser };
}

const refused = /does not accept sign-ins from this identity provider/;

t.test('no setup link is made for CONSOLE_TENANT: not by the admin API, not by the console', async (t) => {
  for (const body of [{}, { connection: connectionId }]) {
    const answer = await broker.admin('POST', '/admin/tenants/ops/setup-links', body);
    t.equal(answer.status, 409, JSON.stringify(body));
    t.equal(answer.body.error, 'console_tenant');
    t.match(answer.body.error_description, /CONSOLE_TENANT.*admin API only/);
  }
  t.equal((await broker.admin('POST', '/admin/tenants', { slug: 'acme', name: 'Acme' })).status, 201);
  t.equal((await broker.admin('POST', '/admin/tenants/acme/setup-links', {})).status, 201, 'other tenants: as before');

  // The console's buttons for it say why, on the console's own page.
  const operator = new TestBrowser();
  const signIn = await operator.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  t.equal(signIn.status, 303);
  const { csrf } = hiddenInputs(await (await operator.request(`${broker.url}/console`)).text());
  t.ok(csrf, 'a console session');
  for (const path of ['/console/tenants/ops/setup-links', `/console/connections/${connectionId}/setup-links`]) {
    const answer = await operator.request(`${broker.url}${path}`, { form: { csrf: csrf! } });
    t.equal(answer.status, 409, path);
    const page = await answer.text();
    t.match(page, /That did not work/);
    t.match(page, /CONSOLE_TENANT: its connections change through the admin API only/);
  }
  const { links } = (await broker.admin('GET', '/admin/tenants/ops/setup-links')).body;
  t.equal(links.length, 2, 'only the two made before it was the console’s tenant');
});

t.test('a link made before saves, tests and activates nothing, and its page says so', async (t) => {
  for (const link of [linkToConnection, linkToNewConnection]) {
    // The same link, on the broker that now has CONSOLE_TENANT (a replica, or the next release).
    const url = link.url.replace(before.url, broker.url);
    const holder = new TestBrowser();
    const opened = await holder.request(url);
    const page = await opened.text();
    t.equal(opened.status, 409, 'the page refuses');
    t.match(page, /This setup link cannot change this organisation’s sign-in/);
    t.match(page, /only the broker’s operators change its connections/);
    t.match(page, /console_tenant/);
    // The holder's attack, with the form's CSRF token where an older broker gave one.
    const csrf = hiddenInputs(page).csrf ?? 'none';
    const draft = await holder.request(`${url}/draft`, {
      form: {
        csrf,
        idp: 'other',
        issuer: rogue.issuer('evil'),
        clientId: 'console-takeover',
        clientSecret: rogue.clientSecret,
        tokenEndpointAuthMethod: 'client_secret_post',
      },
    });
    t.equal(draft.status, 409, 'no draft saved');
    t.match(await draft.text(), /console_tenant/);
    for (const action of ['test-login', 'activate']) {
      const answer = await holder.request(`${url}/${action}`, { form: { csrf } });
      t.equal(answer.status, 409, action);
      t.match(await answer.text(), /console_tenant/);
    }
    // Nor claims or verifies a domain, which would send people to that sign-in.
    for (const [action, form] of [
      ['domains', { csrf, domain: 'ops.example' }],
      ['domains/ops.example/verify', { csrf }],
    ] as const) {
      const answer = await holder.request(`${url}/${action}`, { form });
      t.equal(answer.status, 409, action);
      t.match(await answer.text(), /console_tenant/);
    }
    const versions = await broker.admin('GET', `/admin/connections/${link.connection}/versions`);
    const statuses = versions.status === 200 ? (versions.body.versions as { status: string }[]) : [];
    t.same(
      statuses.map((v) => v.status),
      link.connection === connectionId ? ['active'] : [],
      'the connection is as the admin left it',
    );
  }
  t.same((await broker.admin('GET', '/admin/tenants/ops/domains')).body.domains, [], 'no domain claimed');
  t.equal(rogue.hits.get('evil/.well-known/openid-configuration') ?? 0, 0, 'the broker never asked the rogue IdP');
});

t.test('the issuer is pinned at the first start with CONSOLE_TENANT, and logged', async (t) => {
  const line = startLogs.map((l) => JSON.parse(l)).find((l) => /console: SSO sign-ins admitted only/.test(l.msg));
  t.ok(line, 'a start-up line');
  t.same(line?.issuers, [idp.issuer], 'names the issuer');
  t.match(line?.msg, /set CONSOLE_ISSUER/, 'and what overrides it');
  const ada = await consoleSso(broker);
  t.ok(ada.signedIn, 'the legitimate admin signs in');
});

t.test('an admin repointing the connection at another IdP does not carry console rights', async (t) => {
  const moved = await broker.admin('PATCH', `/admin/connections/${connectionId}`, {
    issuer: rogue.issuer('evil'),
    clientId: 'console-takeover',
    clientSecret: rogue.clientSecret,
  });
  t.equal(moved.status, 200);
  t.teardown(async () => {
    const back = await broker.admin('PATCH', `/admin/connections/${connectionId}`, {
      issuer: idp.issuer,
      clientId: idp.secretClient.clientId,
      clientSecret: idp.secretClient.clientSecret,
    });
    if (back.status !== 200) throw new Error(`could not restore the connection: ${JSON.stringify(back.body)}`);
  });

  // CONSOLE_ISSUER unset: the stored pin, on this replica and on one started after the change.
  const restartLogs: string[] = [];
  const restarted = await consoleBroker(undefined, restartLogs);
  const line = restartLogs.map((l) => JSON.parse(l)).find((l) => /console: SSO sign-ins admitted only/.test(l.msg));
  t.same(line?.issuers, [idp.issuer], 'a restart keeps the first pin');
  // CONSOLE_ISSUER set to the organisation's issuer.
  const pinnedByEnv = await consoleBroker(idp.issuer);
  for (const [name, target] of [
    ['stored pin', broker],
    ['stored pin, after a restart', restarted],
    ['CONSOLE_ISSUER', pinnedByEnv],
  ] as const) {
    const attempt = await consoleSso(target);
    t.equal(attempt.status, 400, `${name}: refused`);
    t.match(attempt.page, refused, name);
    t.notOk(attempt.signedIn, `${name}: no console session`);
    t.ok(rogue.hits.get('evil/token'), 'the rogue IdP did sign them in');
  }
  // Logins to apps through the tenant are the admin's business: only the console is pinned.
  t.equal((await broker.admin('GET', `/admin/connections/${connectionId}`)).body.issuer, rogue.issuer('evil'));
});

t.test('CONSOLE_ISSUER decides, and is the pin from then on; the legitimate admin still gets in', async (t) => {
  const pinnedByEnv = await consoleBroker(idp.issuer);
  t.ok((await consoleSso(pinnedByEnv)).signedIn, 'CONSOLE_ISSUER: Ada signs in');
  t.ok((await consoleSso(broker)).signedIn, 'stored pin: Ada signs in');

  // An operator who moves the console to another IdP says so with CONSOLE_ISSUER; a later
  // start without it keeps that choice rather than going back to the first pin.
  const other = 'https://login.ops.example/';
  await consoleBroker(other);
  const afterLogs: string[] = [];
  const after = await consoleBroker(undefined, afterLogs);
  const line = afterLogs.map((l) => JSON.parse(l)).find((l) => /console: SSO sign-ins admitted only/.test(l.msg));
  t.same(line?.issuers, [other], 'the pin CONSOLE_ISSUER set stays');
  const attempt = await consoleSso(after);
  t.notOk(attempt.signedIn, 'the old issuer no longer signs in to the console');
  t.match(attempt.page, refused);
});

t.test('a CONSOLE_TENANT without a connection at start-up pins nothing: console SSO refuses everyone', async (t) => {
  const logs: string[] = [];
  const lonely = await startBroker(
    t,
    { consoleTenant: 'ops-later', consoleAdmins: ADMINS, secretKeys: before.config.secretKeys },
    { databaseUrl, captureLogs: logs },
  );
  const warning = logs.map((l) => JSON.parse(l)).find((l) => /no issuer is pinned/.test(l.msg));
  t.match(warning?.msg, /set CONSOLE_ISSUER, or restart the broker once the connection exists/);
  t.equal((await lonely.admin('POST', '/admin/tenants', { slug: 'ops-later', name: 'Later' })).status, 201);
  const made = await lonely.admin('POST', '/admin/tenants/ops-later/connections', {
    issuer: rogue.issuer('evil'),
    clientId: 'console-takeover',
    clientSecret: rogue.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  t.equal(made.status, 201);
  const tokenCalls = rogue.hits.get('evil/token') ?? 0;
  const attempt = await consoleSso(lonely);
  t.equal(attempt.status, 400);
  t.match(attempt.page, refused);
  t.notOk(attempt.signedIn);
  t.equal(rogue.hits.get('evil/token') ?? 0, tokenCalls, 'nobody was sent to the IdP');
});
