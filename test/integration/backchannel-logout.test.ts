import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestBrowser, formAction, hiddenInputs, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, GRACE, redeem, registerTenant, type Scenario } from '../helpers/scenario.js';

// Contract v4, "Sessions the IdP ends": POST /api/sso/backchannel-logout/{connection}, as
// OpenID Connect Back-Channel Logout 1.0 §2.6 says, against oidc-provider sending real logout
// tokens and against tokens made here that break one rule each.

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const logs: string[] = [];
const broker = await startBroker(t, {}, { captureLogs: logs });
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA, GRACE],
  backchannelLogout: true,
});
const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
const connection = (await broker.admin('GET', `/admin/connections/${scenario.connectionId}`)).body;
// Another tenant on the same IdP and client: a logout token for one connection ends nothing of the other.
const neighbour = await registerTenant(broker, idp, { method: 'client_secret_post' });

const endpoint = (id: string) => `${broker.url}/api/sso/backchannel-logout/${id}`;
const post = (token: string | undefined, id = scenario.connectionId, target: TestBroker = broker) =>
  fetch(endpoint(id).replace(broker.url, target.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: token === undefined ? '' : new URLSearchParams({ logout_token: token }).toString(),
  });

async function signedIn(who: { claims: Record<string, unknown> }, s: Scenario = scenario) {
  const browser = new TestBrowser();
  const login = String(who.claims.email ?? who.claims.preferred_username);
  const back = await signIn(browser, s.loginUrl(), login, s.returnTo);
  const answer = await redeem(broker, s.app, back.searchParams.get('ticket'));
  if (answer.status !== 200) throw new Error(`redeem: ${answer.status}`);
  const idToken = answer.body.claims as { sid?: string; sub: string };
  return { browser, session: answer.body.session as string, sid: idToken.sid, sub: idToken.sub };
}

/** The session.ended events stored after `cursor`; the new cursor. */
async function endedSince(cursor: string | undefined) {
  const query = new URLSearchParams({ type: 'session.ended', ...(cursor && { after: cursor }) });
  const { body } = await broker.admin('GET', `/admin/events?${query}`);
  return { events: body.events as { id: string; data: Record<string, unknown> }[], next: body.next as string };
}
let cursor = (await endedSince(undefined)).next;
async function newEnded() {
  const { events, next } = await endedSince(cursor);
  cursor = next;
  return events;
}

/** A logout token as §2.4 describes it, valid unless `change` breaks it. */
function claims(change: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: idp.issuer,
    aud: idp.secretClient.clientId,
    iat: Math.floor(Date.now() / 1000),
    jti: randomBytes(12).toString('base64url'),
    events: { [EVENT]: {} },
    sub: ADA.sub,
    ...change,
  };
  return Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined));
}

t.test('the back-channel logout URI is in the connection JSON, the setup document and the setup page', async (t) => {
  t.equal(connection.backchannelLogoutUri, endpoint(scenario.connectionId));
  const doc = await fetch(`${broker.url}/api/sso/setup?connection=${scenario.connectionId}`, {
    headers: { accept: 'application/json' },
  });
  const body = (await doc.json()) as Record<string, unknown>;
  t.equal(body.backchannel_logout_uri, endpoint(scenario.connectionId));
  t.equal(body.backchannel_logout_session_required, true);
  const page = await (await fetch(`${broker.url}/api/sso/setup?connection=${scenario.connectionId}`)).text();
  t.match(page, endpoint(scenario.connectionId));
});

t.test('signing out at the IdP ends the session: oidc-provider posts the logout token', async (t) => {
  await idp.registerBackchannelLogoutUri(idp.secretClient.clientId, connection.backchannelLogoutUri);
  const failures: unknown[] = [];
  idp.provider.on('backchannel.error', (_ctx, error) => failures.push(error));
  const ada = await signedIn(ADA);
  t.type(ada.sid, 'string', 'the ID token carries sid, as the client registered backchannel_logout_session_required');

  // The learner signs out at the IdP itself (its end_session_endpoint, confirmed).
  const confirm = await ada.browser.request(`${idp.issuer}/session/end`);
  const page = await confirm.text();
  await ada.browser.request(formAction(page, `${idp.issuer}/session/end`), {
    form: { ...hiddenInputs(page), logout: 'yes' },
  });
  t.same(failures, [], 'the broker answered the IdP’s logout token with 200');

  const ended = await newEnded();
  t.equal(ended.length, 1);
  t.same(ended[0]?.data, {
    tenant: scenario.tenant,
    connection: scenario.connectionId,
    app: scenario.app.id,
    session: ada.session,
    subject: ADA.sub,
    reason: 'idp_logout',
  });
  // Signing out from the app now goes straight back to it: the IdP already ended its session.
  const logout = await fetch(
    `${broker.url}/api/sso/logout?${new URLSearchParams({ app: scenario.app.id, session: ada.session, post_logout_redirect_uri: scenario.returnTo })}`,
    { redirect: 'manual' },
  );
  t.equal(logout.status, 302);
  t.equal(logout.headers.get('location'), scenario.returnTo, 'the IdP is skipped');
  t.same(await newEnded(), [], 'no second session.ended for that session');
  t.notOk(
    logs.some((line) => line.includes('logout_token=') || line.includes('eyJ')),
    'no logout token (nor any JWT) in the logs',
  );
});

t.test('a valid token answers 200 no-store, also when no session matches', async (t) => {
  const response = await post(await idp.sign(claims({ sub: 'nobody-signed-in' })));
  t.equal(response.status, 200);
  t.equal(response.headers.get('cache-control'), 'no-store');
  t.same(await newEnded(), []);
});

t.test('matching: sid ends that session only; sub ends every session of that user on this connection', async (t) => {
  const first = await signedIn(ADA);
  const second = await signedIn(ADA);
  const grace = await signedIn(GRACE);
  const elsewhere = await signedIn(ADA, neighbour);

  // sid and sub together must both match: a right sid with another sub ends nothing.
  t.equal((await post(await idp.sign(claims({ sid: first.sid, sub: GRACE.sub })))).status, 200);
  t.same(await newEnded(), [], 'sid of one user, sub of another: nothing');

  t.equal((await post(await idp.sign(claims({ sid: first.sid, sub: undefined })))).status, 200);
  t.same(
    (await newEnded()).map((e) => e.data.session),
    [first.session],
    'sid alone: that session',
  );

  t.equal((await post(await idp.sign(claims({ sub: ADA.sub })))).status, 200);
  t.same(
    (await newEnded()).map((e) => e.data.session),
    [second.session],
    'sub alone: Ada’s other session on this connection, not the neighbour’s, not Grace’s',
  );
  t.not(elsewhere.session, second.session);

  t.equal((await post(await idp.sign(claims({ sub: GRACE.sub })), neighbour.connectionId)).status, 200);
  t.same(await newEnded(), [], 'Grace has no session on the neighbour’s connection');
  t.equal((await post(await idp.sign(claims({ sub: GRACE.sub })))).status, 200);
  t.same(
    (await newEnded()).map((e) => e.data.session),
    [grace.session],
  );
});

t.test('§2.6: a token that breaks one rule is refused with 400 and ends nothing', async (t) => {
  await signedIn(ADA);
  const otherKey = (await generateKeyPair('RS256')).privateKey;
  const signedBy = (key: Parameters<SignJWT['sign']>[0], payload: Record<string, unknown>, alg = 'RS256') =>
    new SignJWT(payload).setProtectedHeader({ alg, kid: 'idp-key-1' }).sign(key);
  const now = Math.floor(Date.now() / 1000);
  const unsigned = (payload: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  const cases: [string, () => Promise<string | undefined>][] = [
    ['no logout_token', async () => undefined],
    ['not a JWT', async () => 'not-a-jwt'],
    ['encrypted (JWE)', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
    ['alg none', async () => unsigned(claims())],
    [
      'HS256 keyed with the client secret',
      async () => signedBy(new TextEncoder().encode(idp.secretClient.clientSecret) as never, claims(), 'HS256'),
    ],
    ['signed by another key under the IdP’s kid', async () => signedBy(otherKey, claims())],
    ['iss of another issuer', async () => idp.sign(claims({ iss: `${idp.issuer}/other` }))],
    ['aud without this client', async () => idp.sign(claims({ aud: ['someone-else'] }))],
    ['no iat', async () => idp.sign(claims({ iat: undefined }))],
    ['iat 6 minutes and 2 s ago', async () => idp.sign(claims({ iat: now - 362 }))],
    ['iat 2 minutes ahead', async () => idp.sign(claims({ iat: now + 120 }))],
    ['exp passed', async () => idp.sign(claims({ exp: now - 120 }))],
    ['no jti', async () => idp.sign(claims({ jti: undefined }))],
    ['no events', async () => idp.sign(claims({ events: undefined }))],
    ['events without the back-channel logout member', async () => idp.sign(claims({ events: { other: {} } }))],
    ['the member is not an object', async () => idp.sign(claims({ events: { [EVENT]: 'yes' } }))],
    ['events is an array', async () => idp.sign(claims({ events: [EVENT] }))],
    ['neither sub nor sid', async () => idp.sign(claims({ sub: undefined }))],
    ['a nonce', async () => idp.sign(claims({ nonce: 'n-0S6_WzA2Mj' }))],
    ['a signed payload that is not JSON', async () => idp.signBytes(new TextEncoder().encode('not json'))],
    ['a sub with a NUL', async () => idp.sign(claims({ sub: 'user\u0000x' }))],
    ['a sid of 300 characters', async () => idp.sign(claims({ sid: 's'.repeat(300) }))],
  ];
  for (const [name, make] of cases) {
    const response = await post(await make());
    const body = (await response.json()) as { error: string; error_description: string };
    t.equal(response.status, 400, name);
    t.equal(body.error, 'invalid_request', `${name}: invalid_request`);
    t.match(body.error_description, /^Logout token refused: /, `${name}: says why`);
    t.equal(response.headers.get('cache-control'), 'no-store', `${name}: no-store`);
  }
  t.same(await newEnded(), [], 'no session ended');
  // Within the tolerances, the same token is accepted: iat 5 min 50 s ago, 50 s ahead, exp 50 s ago.
  for (const change of [{ iat: now - 350 }, { iat: now + 50 }, { exp: now - 50 }]) {
    t.equal(
      (await post(await idp.sign(claims({ sub: 'within-skew', ...change })))).status,
      200,
      JSON.stringify(change),
    );
  }
  t.equal((await post(await idp.sign(claims()))).status, 200, 'the unbroken token is accepted');
  t.equal((await newEnded()).length, 1, 'and ends the session');
});

t.test('a replayed jti is refused, on another replica and after a restart', async (t) => {
  await signedIn(ADA);
  const token = await idp.sign(claims());
  t.equal((await post(token)).status, 200);
  t.equal((await newEnded()).length, 1);
  const replica = await startBroker(
    t,
    { secretKeys: broker.config.secretKeys, adminToken: broker.adminToken },
    { databaseUrl: broker.config.databaseUrl },
  );
  const replayed = await post(token, scenario.connectionId, replica);
  t.equal(replayed.status, 400);
  t.match(((await replayed.json()) as { error_description: string }).error_description, /jti was used before/);
  t.equal((await post(token)).status, 400, 'and on the first');
  // The same jti from another connection's IdP is another token.
  const other = await post(token, neighbour.connectionId);
  t.equal(other.status, 200, 'jtis are per connection');
  t.same(
    (await newEnded()).map((e) => e.data.connection),
    [neighbour.connectionId],
    'and it ends Ada’s session on that connection',
  );
});

t.test('unknown connection: 404; RP logout emits session.ended with rp_logout', async (t) => {
  const unknown = await post(await idp.sign(claims()), 'no-such-connection');
  t.equal(unknown.status, 404);
  t.equal(unknown.headers.get('cache-control'), 'no-store');

  const ada = await signedIn(ADA);
  const logout = await fetch(
    `${broker.url}/api/sso/logout?${new URLSearchParams({ app: scenario.app.id, session: ada.session, post_logout_redirect_uri: scenario.returnTo })}`,
    { redirect: 'manual' },
  );
  t.equal(logout.status, 302);
  t.match(logout.headers.get('location'), idp.issuer, 'a live session signs out through the IdP');
  const ended = await newEnded();
  t.same(
    ended.map((e) => [e.data.session, e.data.reason]),
    [[ada.session, 'rp_logout']],
  );
  // The IdP's own logout token for that session, arriving afterwards, finds it ended: 200, no event.
  t.equal((await post(await idp.sign(claims({ sid: ada.sid, sub: undefined })))).status, 200);
  t.same(await newEnded(), []);
});

t.test(
  'rate limits: made-up connection ids count against the address; a real connection has its own budget',
  async (t) => {
    const limited = await startBroker(
      t,
      { secretKeys: broker.config.secretKeys, adminToken: broker.adminToken, rateLimitPerMinute: 5 },
      { databaseUrl: broker.config.databaseUrl },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await post(await idp.sign(claims()), randomUUID(), limited)).status);
    }
    t.same(statuses, [...Array(5).fill(404), ...Array(5).fill(429)], 'unknown ids: 404 until the limit, then 429');
    const real = await post(await idp.sign(claims({ sub: 'nobody' })), scenario.connectionId, limited);
    t.equal(real.status, 200, 'the connection’s own IdP is not refused for them');
  },
);
