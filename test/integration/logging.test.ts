import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerAutoLoginTenant, registerTenant } from '../helpers/scenario.js';

// Contract, Operations: codes, tokens, tickets, secrets, cookies and assertions never appear in logs.

t.test('log rule: a full login at trace level leaks no code, state, ticket, secret or cookie', async (t) => {
  const lines: string[] = [];
  const broker = await startBroker(t, {}, { captureLogs: lines });
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const secrets: string[] = [idp.secretClient.clientSecret, broker.adminToken];
  for (const method of ['client_secret_post', 'private_key_jwt'] as const) {
    const scenario = await registerTenant(broker, idp, { method });
    secrets.push(scenario.app.secret);
    const browser = new TestBrowser();
    const back = await signIn(browser, scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
    const ticket = back.searchParams.get('ticket')!;
    secrets.push(ticket);
    for (const hop of browser.hops) {
      const url = new URL(hop.url);
      for (const name of ['code', 'state', 'nonce', 'code_challenge']) {
        const value = url.searchParams.get(name);
        if (value) secrets.push(value);
      }
    }
    const cookies = await browser.jar.getCookies(broker.url + '/api/sso/callback');
    secrets.push(...cookies.map((c) => c.value));
    t.equal((await redeem(broker, scenario.app, ticket)).status, 200);
    // A failed redemption logs too.
    await redeem(broker, { id: scenario.app.id, secret: 'wrong-secret' }, ticket);
  }
  for (const assertion of idp.tokenRequests.map((r) => r.form.get('client_assertion')).filter(Boolean))
    secrets.push(assertion!);
  const log = lines.join('');
  t.ok(lines.length > 10, `captured ${lines.length} log lines`);
  t.ok(secrets.length > 10, `checked ${secrets.length} secret values`);
  for (const secret of secrets) {
    t.notOk(log.includes(secret), `not in the log: ${secret.slice(0, 6)}…`);
  }
  t.notMatch(log, /"authorization"|"cookie"|set-cookie/i, 'no credential headers');
});

t.test(
  'log rule: failing logins (bad signature, token endpoint errors, bad claims) leak no code or token either',
  async (t) => {
    const { startRogueIdp, rs256 } = await import('../helpers/rogue-idp.js');
    const lines: string[] = [];
    const broker = await startBroker(t, { idpTimeoutSeconds: 1 }, { captureLogs: lines });
    const rogue = await startRogueIdp(t, {
      'bad-signature': {
        idToken: async (claims, ctx) => `${(await rs256(claims, ctx.keys.current)).slice(0, -6)}AAAAAA`,
      },
      'wrong-nonce': { claims: (claims) => ({ ...claims, nonce: 'x' }) },
      // No email in the ID token: the broker asks userinfo (with the access token), which fails.
      'no-email': {
        claims: ({ email: _, ...claims }) => claims,
        userinfo: () => (res) => res.writeHead(500).end('upstream trouble'),
      },
      'token-error': {
        token: (res) => (
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end('{"error":"invalid_grant","error_description":"code abc123 expired"}'),
          true
        ),
      },
      'alg-none': {
        idToken: (claims) =>
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
      },
    });
    const seen: string[] = [rogue.clientSecret];
    for (const name of ['bad-signature', 'wrong-nonce', 'no-email', 'token-error', 'alg-none']) {
      const tenant = await registerAutoLoginTenant(broker, {
        slug: name,
        issuer: rogue.issuer(name),
        clientSecret: rogue.clientSecret,
      });
      const { error, browser } = await tenant.login();
      t.ok(error, `${name}: failed as intended`);
      for (const hop of browser.hops) {
        const state = new URL(hop.url).searchParams.get('state');
        if (state) seen.push(state);
      }
    }
    seen.push(...rogue.issued);
    const log = lines.join('');
    t.match(log, /"msg":"login failed"/, 'the failures were logged');
    for (const secret of seen) t.notOk(log.includes(secret), `not in the log: ${secret.slice(0, 8)}…`);
    // No JWT-shaped value at all (three base64url parts starting with a JSON header).
    t.notMatch(log, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\./, 'no JWT of any kind');
  },
);
