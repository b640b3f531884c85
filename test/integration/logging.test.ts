import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Contract, Operations: codes, tokens, tickets, secrets, cookies and assertions never appear in logs.

t.test('log rule: a full login at trace level leaks no code, state, ticket, secret or cookie', async (t) => {
  const lines: string[] = [];
  const broker = await startBroker(t, {}, { captureLogs: lines });
  const idp = await startIdp(t, { redirectUri: broker.config.callbackUrl, brokerJwks: broker.keys.jwks(), accounts: [ADA] });
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
  for (const assertion of idp.tokenRequests.map((r) => r.form.get('client_assertion')).filter(Boolean)) secrets.push(assertion!);
  const log = lines.join('');
  t.ok(lines.length > 20, `captured ${lines.length} log lines`);
  t.ok(secrets.length > 10, `checked ${secrets.length} secret values`);
  for (const secret of secrets) {
    t.notOk(log.includes(secret), `not in the log: ${secret.slice(0, 6)}…`);
  }
  t.notMatch(log, /"authorization"|"cookie"|set-cookie/i, 'no credential headers');
});
