import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, formAction } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { rs256, startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA, registerAutoLoginTenant, registerTenant } from '../helpers/scenario.js';

// Contract: POST /admin/connections/:id/test-login — a one-time URL that runs a real login
// against the connection, with no app, ending on a diagnostics page.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const ticketCount = async () =>
  (await broker.database.pool.query('SELECT count(*)::int AS n FROM tickets')).rows[0].n as number;

/** Opens the link, signs in at the IdP's form, returns the diagnostics (JSON). */
async function runTestLogin(url: string) {
  const browser = new TestBrowser();
  const first = await browser.follow(url, () => false);
  const action = formAction(await first.response.text(), browser.hops.at(-1)!.url);
  const done = await browser.follow(action, () => false, {
    form: { login: ADA.claims.email },
    accept: 'application/json',
  });
  return { status: done.response.status, body: (await done.response.json()) as any };
}

t.test('a test login runs the real flow and ticks every step, without an app or a ticket', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'private_key_jwt' });
  const before = await ticketCount();
  const created = await broker.admin('POST', `/admin/connections/${scenario.connectionId}/test-login`);
  t.equal(created.status, 200);
  t.match(created.body, { url: new RegExp(`^${broker.url}/api/sso/test-login\\?token=`), expiresAt: String });

  const result = await runTestLogin(created.body.url);
  t.equal(result.status, 200);
  t.equal(result.body.ok, true);
  t.same(
    result.body.steps.map((s: { id: string; ok: boolean }) => [s.id, s.ok]),
    [
      ['connection', true],
      ['discovery', true],
      ['response_issuer', true],
      ['authorization', true],
      ['token_exchange', true],
      ['claims', true],
      ['domain', true],
    ],
  );
  t.equal(
    result.body.redirectUri,
    `${broker.config.callbackUrl}/${scenario.connectionId}`,
    'the diagnostics name the connection’s own redirect URI',
  );
  t.match(
    result.body.steps.find((s: { id: string }) => s.id === 'response_issuer').message,
    'RFC 9207',
    'oidc-provider sends iss, and it was checked',
  );
  t.equal(result.body.claims.sub, ADA.sub, 'the validated claims are shown');
  t.notMatch(JSON.stringify(result.body), /eyJ[A-Za-z0-9_-]{10,}\./, 'but never a token');
  t.equal(await ticketCount(), before, 'no ticket minted');

  const again = await fetch(created.body.url, { redirect: 'manual', headers: { accept: 'application/json' } });
  t.equal(again.status, 400, 'the link works once');
});

t.test('the diagnostics page is HTML for a browser', async (t) => {
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const created = await broker.admin('POST', `/admin/connections/${scenario.connectionId}/test-login`);
  const browser = new TestBrowser();
  const first = await browser.follow(created.body.url, () => false);
  const done = await browser.follow(formAction(await first.response.text(), browser.hops.at(-1)!.url), () => false, {
    form: { login: ADA.claims.email },
  });
  const html = await done.response.text();
  t.match(done.response.headers.get('content-type'), /text\/html/);
  t.match(html, /Test login: it works/);
  t.match(html, new RegExp(ADA.sub));
});

t.test('a misbehaving IdP: the diagnostics say which step failed and why', async (t) => {
  const rogue = await startRogueIdp(t, {
    'bad-signature': {
      idToken: async (claims, ctx) => `${(await rs256(claims, ctx.keys.current)).slice(0, -6)}AAAAAA`,
    },
  });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'diag-bad-sig',
    issuer: rogue.issuer('bad-signature'),
    clientSecret: rogue.clientSecret,
  });
  const created = await broker.admin('POST', `/admin/connections/${tenant.connectionId}/test-login`);
  const result = await new TestBrowser().follow(created.body.url, () => false, { accept: 'application/json' });
  const body = (await result.response.json()) as { ok: boolean; steps: { id: string; ok: boolean; message: string }[] };
  t.equal(body.ok, false);
  const failed = body.steps.find((s) => !s.ok)!;
  t.equal(failed.id, 'token_exchange');
  t.match(failed.message, /^invalid_id_token: .*signature/i);
});

t.test('unknown connection: 404; forged or missing token: 400', async (t) => {
  t.equal((await broker.admin('POST', '/admin/connections/nope/test-login')).status, 404);
  for (const query of ['', '?token=forged', `?token=${'x'.repeat(300)}`]) {
    const response = await fetch(`${broker.url}/api/sso/test-login${query}`, {
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
    t.equal(response.status, 400, query || 'no token');
  }
});
