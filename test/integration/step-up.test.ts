import { randomBytes } from 'node:crypto';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, hiddenInputs, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA, redeem, registerAutoLoginTenant, registerTenant } from '../helpers/scenario.js';

// Step-up and freshness (contract v4): an app asks for `acr_values`, `max_age` or `prompt` on
// /api/sso/login; the broker passes them on, and at the callback refuses an ID token that does not
// honour them before any ticket exists. Played against oidc-provider, which signs users in with
// the class asked for, and against IdPs that ignore the request (the rogue IdP's tokens: no acr,
// no auth_time, an old auth_time).

const broker = await startBroker(t);
const PWD = 'urn:test:acr:pwd';
const MFA = 'urn:test:acr:mfa';
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
  acrValues: [PWD, MFA],
});

/** Seconds added to "now" for the rogue IdP's `auth_time` (undefined: none), per behaviour. */
const authTimeOffset: Record<string, number | undefined> = {};
const rogue = await startRogueIdp(t, {
  // Ignores acr_values and max_age: its tokens carry neither acr nor auth_time.
  ignores: {},
  // Sends an auth_time `authTimeOffset.timed` seconds from now, and the acr and amr it was told.
  timed: {
    claims: (claims) => ({
      ...claims,
      ...(authTimeOffset.timed !== undefined && { auth_time: Math.floor(Date.now() / 1000) + authTimeOffset.timed }),
      acr: 'urn:rogue:acr:otp',
      amr: ['otp', 42],
    }),
  },
});

async function rogueTenant(behaviour: string, connection: Record<string, unknown> = {}) {
  const slug = `r-${randomBytes(4).toString('hex')}`;
  const tenant = await registerAutoLoginTenant(broker, {
    slug,
    issuer: rogue.issuer(behaviour),
    clientSecret: rogue.clientSecret,
    connection,
  });
  const returnTo = `https://app.example.test/${slug}`;
  return {
    ...tenant,
    /** A whole login with `params` added to the login URL; where the browser came back to the app. */
    async login(params: Record<string, string>) {
      const browser = new TestBrowser();
      const query = new URLSearchParams({ app: tenant.app.id, return_to: returnTo, tenant: slug, ...params });
      const result = await browser.follow(`${broker.url}/api/sso/login?${query}`, (u) => u.startsWith(returnTo));
      if (!result.url) throw new Error(`${slug}: ended at ${result.response.status} ${await result.response.text()}`);
      const back = new URL(result.url);
      const authorize = browser.hops.find((hop) => hop.url.startsWith(rogue.issuer(behaviour)));
      return {
        error: back.searchParams.get('error'),
        state: back.searchParams.get('state'),
        ticket: back.searchParams.get('ticket'),
        authorization: new URL(authorize!.url).searchParams,
      };
    },
  };
}

t.test('bad acr_values, max_age and prompt are a 400 invalid_request, never sent to an IdP', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const bad: [string, string | string[]][] = [
    ['acr_values', ''],
    ['acr_values', ' '],
    ['acr_values', `${PWD}  ${MFA}`],
    ['acr_values', ` ${PWD}`],
    ['acr_values', Array.from({ length: 11 }, (_, i) => `urn:acr:${i}`).join(' ')],
    ['acr_values', 'a'.repeat(201)],
    ['acr_values', 'urn:acr:\u00e9t\u00e9'],
    ['acr_values', 'urn:acr:\ttab'],
    ['acr_values', [PWD, MFA]],
    ['max_age', ''],
    ['max_age', '-1'],
    ['max_age', '1.5'],
    ['max_age', '1e3'],
    ['max_age', ' 60'],
    ['max_age', 'sixty'],
    ['max_age', '9'.repeat(16)],
    ['max_age', ['60', '60']],
    ['prompt', ''],
    ['prompt', 'none'],
    ['prompt', 'consent'],
    ['prompt', 'LOGIN'],
    ['prompt', 'login select_account'],
    ['prompt', ['login', 'login']],
  ];
  for (const [name, value] of bad) {
    const url = new URL(scenario.loginUrl());
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, v);
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' } });
    t.equal(response.status, 400, `${name}=${JSON.stringify(value)}: 400`);
    if (response.status !== 400) continue;
    const body = (await response.json()) as { error: string; error_description: string };
    t.equal(body.error, 'invalid_request', `${name}=${JSON.stringify(value)}: invalid_request`);
    t.match(body.error_description, name, 'the description names the parameter');
  }
  const good = new URL(scenario.loginUrl());
  good.searchParams.set('acr_values', Array.from({ length: 10 }, (_, i) => `${'a'.repeat(190)}:${i}`).join(' '));
  good.searchParams.set('max_age', '0');
  good.searchParams.set('prompt', 'select_account');
  const response = await fetch(good, { redirect: 'manual' });
  t.equal(response.status, 302, 'ten values of 200 characters, max_age 0 and select_account are accepted');
  const sent = new URL(response.headers.get('location')!).searchParams;
  t.equal(sent.get('acr_values')?.split(' ').length, 10, 'all ten passed on');
  t.equal(sent.get('max_age'), '0');
  t.equal(sent.get('prompt'), 'select_account');
  const cookie = response.headers.getSetCookie().join('; ');
  t.ok(cookie.length < 1500, `the transaction cookie stays small with 2 KB of ACR values (${cookie.length} bytes)`);
});

t.test('acr_values, max_age and prompt=login are passed on; a satisfied acr reaches the app', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const browser = new TestBrowser();
  const started = Date.now();
  const back = await signIn(
    browser,
    scenario.loginUrl({ acr_values: `${MFA} urn:test:acr:other`, max_age: '300', prompt: 'login', state: 's1' }),
    ADA.claims.email,
    scenario.returnTo,
  );
  const authorization = new URL(browser.hops.find((hop) => hop.url.startsWith(`${idp.issuer}/auth`))!.url);
  t.equal(authorization.searchParams.get('acr_values'), `${MFA} urn:test:acr:other`, 'acr_values passed on, in order');
  t.equal(authorization.searchParams.get('max_age'), '300');
  t.equal(authorization.searchParams.get('prompt'), 'login');
  t.equal(back.searchParams.get('error'), null, 'no error');
  t.equal(back.searchParams.get('state'), 's1');
  const answer = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
  t.equal(answer.status, 200);
  t.equal(answer.body.acr, MFA, 'acr: the class the IdP signed in with');
  t.same(answer.body.amr, ['pwd', 'mfa'], 'amr from the ID token');
  t.type(answer.body.claims.auth_time, 'number', 'the IdP sent auth_time (max_age asked for it)');
  t.equal(answer.body.authenticatedAt, new Date(answer.body.claims.auth_time * 1000).toISOString(), 'from auth_time');
  t.ok(answer.body.claims.auth_time * 1000 >= started - 1000, 'a fresh sign-in');
});

t.test('an acr other than the ones asked for is acr_not_satisfied, back to the app', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  // The IdP does not know this class and signs in with its default (PWD).
  const back = await signIn(
    new TestBrowser(),
    scenario.loginUrl({ acr_values: 'urn:test:acr:hardware-key', state: 's2' }),
    ADA.claims.email,
    scenario.returnTo,
  );
  t.equal(back.origin + back.pathname, scenario.returnTo.split('?')[0], 'back at the app');
  t.equal(back.searchParams.get('error'), 'acr_not_satisfied');
  t.ok(back.searchParams.get('error_description'));
  t.equal(back.searchParams.get('state'), 's2', "the app's state");
  t.equal(back.searchParams.get('ticket'), null, 'no ticket');
});

t.test('an IdP that ignores acr_values and max_age gets no ticket', async (t) => {
  const tenant = await rogueTenant('ignores');
  const acr = await tenant.login({ acr_values: MFA, state: 'a' });
  t.equal(acr.authorization.get('acr_values'), MFA, 'asked for');
  t.match(acr, { error: 'acr_not_satisfied', state: 'a', ticket: null }, 'no acr in the ID token: refused');
  const maxAge = await tenant.login({ max_age: '600', state: 'b' });
  t.equal(maxAge.authorization.get('max_age'), '600', 'asked for');
  t.match(maxAge, { error: 'stale_authentication', state: 'b', ticket: null }, 'max_age and no auth_time: refused');
  const promptLogin = await tenant.login({ prompt: 'login' });
  t.equal(promptLogin.authorization.get('prompt'), 'login', 'asked for');
  t.equal(promptLogin.error, null, 'prompt=login with no auth_time: nothing to compare, accepted');
  const plain = await tenant.login({});
  t.equal(plain.error, null, 'without step-up the same IdP signs in');
  t.equal(plain.authorization.get('acr_values'), null, 'and nothing was asked for');
  const answer = await redeem(broker, tenant.app, plain.ticket);
  t.equal(answer.status, 200);
  t.equal(answer.body.acr, null, 'acr: null without one');
  t.equal(answer.body.amr, null, 'amr: null without one');
});

t.test('an old auth_time is stale_authentication, within 60 s of clock skew', async (t) => {
  const tenant = await rogueTenant('timed');
  t.teardown(() => void delete authTimeOffset.timed);
  authTimeOffset.timed = -3600;
  t.match(
    await tenant.login({ max_age: '600' }),
    { error: 'stale_authentication', ticket: null },
    'older than max_age',
  );
  t.match(
    await tenant.login({ prompt: 'login' }),
    { error: 'stale_authentication', ticket: null },
    'prompt=login and an auth_time from before the login started',
  );
  t.equal((await tenant.login({})).error, null, 'neither asked: an old sign-in is fine');

  authTimeOffset.timed = -(300 + 50);
  t.equal((await tenant.login({ max_age: '300' })).error, null, 'max_age exceeded by 50 s: within the skew');
  authTimeOffset.timed = -(300 + 70);
  t.equal((await tenant.login({ max_age: '300' })).error, 'stale_authentication', 'exceeded by 70 s: refused');
  authTimeOffset.timed = -50;
  t.equal((await tenant.login({ prompt: 'login' })).error, null, 'prompt=login, 50 s before the start: within skew');
  t.equal((await tenant.login({ max_age: '0' })).error, null, 'max_age=0, 50 s ago: within skew');
  authTimeOffset.timed = -70;
  t.equal((await tenant.login({ prompt: 'login' })).error, 'stale_authentication', '70 s before the start: refused');
  t.equal((await tenant.login({ max_age: '0' })).error, 'stale_authentication', 'max_age=0, 70 s ago: refused');
});

t.test('the redeem answer: acr, amr, and authenticatedAt from auth_time or the time of receipt', async (t) => {
  const tenant = await rogueTenant('timed');
  t.teardown(() => void delete authTimeOffset.timed);
  authTimeOffset.timed = -120;
  const before = Date.now();
  const timed = await tenant.login({});
  const answer = await redeem(broker, tenant.app, timed.ticket);
  t.equal(answer.status, 200);
  t.equal(answer.body.acr, 'urn:rogue:acr:otp');
  t.same(answer.body.amr, ['otp'], 'amr: its strings');
  t.equal(answer.body.authenticatedAt, new Date(answer.body.claims.auth_time * 1000).toISOString(), 'auth_time');
  t.ok(Date.parse(answer.body.authenticatedAt) < before - 100_000, 'two minutes ago, not now');

  delete authTimeOffset.timed;
  const start = Date.now();
  const untimed = await tenant.login({});
  const end = Date.now();
  const second = await redeem(broker, tenant.app, untimed.ticket);
  t.equal(second.body.claims.auth_time, undefined, 'no auth_time');
  const at = Date.parse(second.body.authenticatedAt);
  t.ok(at >= start && at <= end, 'when the broker received the ID token');
});

t.test(
  'a connection’s acrValues are sent on every login, after the app’s, and either satisfies the check',
  async (t) => {
    const scenario = await registerTenant(broker, idp, {
      method: 'client_secret_post',
      connection: { acrValues: [MFA] },
    });
    const browser = new TestBrowser();
    const back = await signIn(browser, scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
    const sent = (b: TestBrowser) => new URL(b.hops.find((hop) => hop.url.startsWith(`${idp.issuer}/auth`))!.url);
    t.equal(sent(browser).searchParams.get('acr_values'), MFA, 'the connection’s, without the app asking');
    const answer = await redeem(broker, scenario.app, back.searchParams.get('ticket'));
    t.equal(answer.body.acr, MFA, 'the IdP signed in with it');

    const both = new TestBrowser();
    const apps = await signIn(
      both,
      scenario.loginUrl({ acr_values: `${PWD} ${MFA}` }),
      ADA.claims.email,
      scenario.returnTo,
    );
    t.equal(sent(both).searchParams.get('acr_values'), `${PWD} ${MFA}`, 'the app’s, the connection’s not repeated');
    const weaker = await redeem(broker, scenario.app, apps.searchParams.get('ticket'));
    t.equal(weaker.body.acr, PWD, 'the IdP took the app’s first choice, and the answer says so');

    const other = new TestBrowser();
    const merged = await signIn(
      other,
      scenario.loginUrl({ acr_values: 'urn:test:acr:hardware-key' }),
      ADA.claims.email,
      scenario.returnTo,
    );
    t.equal(
      sent(other).searchParams.get('acr_values'),
      `urn:test:acr:hardware-key ${MFA}`,
      'the app’s first, then the connection’s',
    );
    t.equal(merged.searchParams.get('error'), null, 'the IdP chose MFA, the connection’s: accepted');
  },
);

t.test('an IdP that ignores a connection’s acrValues gets no ticket', async (t) => {
  const tenant = await rogueTenant('ignores', { acrValues: ['urn:rogue:acr:mfa'] });
  const result = await tenant.login({});
  t.equal(result.authorization.get('acr_values'), 'urn:rogue:acr:mfa', 'asked for by the connection');
  t.match(result, { error: 'acr_not_satisfied', ticket: null });
});

t.test('acrValues is a versioned connection setting, checked like the login parameter', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const path = `/admin/connections/${scenario.connectionId}`;
  for (const bad of [['has space'], [''], ['a'.repeat(201)], Array.from({ length: 11 }, (_, i) => `a${i}`), 'x']) {
    const refused = await broker.admin('PATCH', path, { acrValues: bad });
    t.equal(refused.status, 400, `${JSON.stringify(bad).slice(0, 40)}: 400`);
  }
  const patched = await broker.admin('PATCH', path, { acrValues: [MFA] });
  t.equal(patched.status, 200);
  t.same(patched.body.acrValues, [MFA]);
  const versions = (await broker.admin('GET', `${path}/versions`)).body.versions;
  t.same(
    versions.map((v: { version: number; acrValues: string[] }) => [v.version, v.acrValues]),
    [
      [2, [MFA]],
      [1, []],
    ],
    'a new version holds it',
  );
  // Version 1 as a broker before this setting saved it: without the field.
  await broker.database.pool.query(
    `UPDATE connection_versions SET settings = settings - 'acrValues' WHERE connection_id = $1 AND version = 1`,
    [scenario.connectionId],
  );
  const rolledBack = await broker.admin('POST', `${path}/versions/1/activate`);
  t.equal(rolledBack.status, 200);
  t.same((await broker.admin('GET', path)).body.acrValues, [], 'a rollback takes it away');
  const response = await new TestBrowser().request(scenario.loginUrl());
  t.equal(
    new URL(response.headers.get('location')!).searchParams.get('acr_values'),
    null,
    'and logins no longer send it',
  );
});

/** A form post as a browser makes it (its cookies, same origin). */
async function postForm(browser: TestBrowser, url: string, form: Record<string, string>) {
  const response = await browser.request(url, { form });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

t.test('a setup link’s IdP engineer sets acrValues in a draft, and empties it again', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const link = await broker.admin('POST', `/admin/tenants/${scenario.tenant}/setup-links`, {
    connection: scenario.connectionId,
  });
  t.equal(link.status, 201);
  const browser = new TestBrowser();
  const opened = await (await browser.request(link.body.url)).text();
  t.match(opened, /<label for="acrValues">/, 'the hand-back form has the field');
  const hidden = hiddenInputs(opened);
  const settings = { issuer: idp.issuer, clientId: idp.secretClient.clientId };
  const versions = async () => (await broker.admin('GET', `/admin/connections/${scenario.connectionId}/versions`)).body;

  const refused = await postForm(browser, `${link.body.url}/draft`, { ...hidden, ...settings, acrValues: 'é' });
  t.equal(refused.status, 400, 'a value that is not printable ASCII');
  t.match(refused.html, 'acrValues');
  const saved = await postForm(browser, `${link.body.url}/draft`, {
    ...hidden,
    ...settings,
    acrValues: ` ${MFA}  ${PWD} `,
  });
  t.equal(saved.status, 303);
  t.match((await versions()).versions[0], {
    version: 2,
    status: 'draft',
    createdBy: 'setup-link',
    acrValues: [MFA, PWD],
  });
  const shown = await (await browser.request(new URL(saved.location!, link.body.url).href)).text();
  t.match(shown, `value="${MFA} ${PWD}"`, 'the page shows the draft’s values');
  const emptied = await postForm(browser, `${link.body.url}/draft`, { ...hidden, ...settings, acrValues: '' });
  t.equal(emptied.status, 303);
  t.match((await versions()).versions[0], { version: 3, status: 'draft', acrValues: [] }, 'an empty field clears them');
});

t.test('the console sets acrValues as a draft version, tested and activated like any', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const browser = new TestBrowser();
  const signedIn = await browser.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } });
  t.equal(signedIn.status, 303);
  const pageUrl = `${broker.url}/console/connections/${scenario.connectionId}`;
  const opened = await (await browser.request(pageUrl)).text();
  t.match(opened, /action="\/console\/connections\/[^"]+\/acr-values"/, 'the connection page has the form');
  const csrf = /name="csrf" value="([^"]+)"/.exec(opened)?.[1] ?? '';

  const refused = await postForm(browser, `${pageUrl}/acr-values`, { csrf, acrValues: 'a'.repeat(201) });
  t.equal(refused.status, 400);
  t.match(refused.html, 'Required ACR values');
  const saved = await postForm(browser, `${pageUrl}/acr-values`, { csrf, acrValues: MFA });
  t.equal(saved.status, 303);
  const versions = (await broker.admin('GET', `/admin/connections/${scenario.connectionId}/versions`)).body.versions;
  t.match(
    versions[0],
    { version: 2, status: 'draft', acrValues: [MFA], issuer: idp.issuer },
    'a draft of the active settings',
  );
  t.same((await broker.admin('GET', `/admin/connections/${scenario.connectionId}`)).body.acrValues, [], 'not live yet');
  const changes = (await broker.admin('GET', '/admin/changes?resource=connection-version')).body.changes;
  t.match(changes[0], { action: 'create', id: `${scenario.connectionId}/2`, fields: ['acrValues'] }, 'recorded');

  const forced = await broker.admin('POST', `/admin/connections/${scenario.connectionId}/versions/2/activate`, {
    force: true,
  });
  t.equal(forced.status, 200);
  const live = await (await browser.request(pageUrl)).text();
  t.match(live, `<code>${MFA}</code>`, 'the page shows the live values');
  const response = await new TestBrowser().request(scenario.loginUrl());
  t.equal(new URL(response.headers.get('location')!).searchParams.get('acr_values'), MFA, 'and logins send them');
});
