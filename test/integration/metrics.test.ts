import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Contract: GET /metrics — Prometheus text: logins started, completed, failed by reason,
// tickets redeemed, latency histograms.

const broker = await startBroker(t);
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const scenario = await registerTenant(broker, idp, { method: 'private_key_jwt' });

async function metrics() {
  const response = await fetch(`${broker.url}/metrics`);
  t.match(response.headers.get('content-type'), /^text\/plain/);
  return response.text();
}
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

t.test('logins, failures by reason, redemptions and IdP latency are counted', async (t) => {
  const ok = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  await signIn(new TestBrowser(), scenario.loginUrl(), 'nobody@acme.example', scenario.returnTo);
  const ticket = ok.searchParams.get('ticket');
  await redeem(broker, scenario.app, ticket);
  await redeem(broker, scenario.app, ticket);

  const text = await metrics();
  const tenant = `tenant="${scenario.tenant}"`;
  t.equal(value(text, `sso_logins_started_total{${tenant}}`), 2);
  t.equal(value(text, `sso_logins_completed_total{${tenant}}`), 1);
  t.equal(value(text, `sso_logins_failed_total{${tenant},reason="access_denied"}`), 1);
  t.equal(value(text, 'sso_tickets_redeemed_total'), 1);
  t.equal(value(text, 'sso_tickets_refused_total{reason="invalid_ticket"}'), 1);
  const connection = `connection="${scenario.connectionId}"`;
  t.equal(
    value(text, `sso_idp_request_duration_seconds_count{${connection},endpoint="token"}`),
    1,
    'one token request timed (the refused login never reached it)',
  );
  t.equal(value(text, `sso_idp_request_duration_seconds_count{${connection},endpoint="discovery"}`), 1);
  t.equal(value(text, `sso_idp_request_duration_seconds_count{${connection},endpoint="jwks"}`), 1);
  t.equal(value(text, 'sso_login_duration_seconds_count{outcome="success"}'), 1);
  t.ok(value(text, 'sso_idp_cache_total{result="hit"}') >= 2, 'the IdP configuration cache is hit');
  t.ok(value(text, 'sso_config_cache_total{result="hit"}') >= 3, 'the tenant/app/connection cache is hit');
  t.ok(value(text, 'sso_config_cache_total{result="miss"}') >= 1, 'and was filled on a miss');
  t.match(text, /process_resident_memory_bytes/, 'process metrics');
  t.notMatch(text, new RegExp(ticket!), 'no ticket in metrics');
});

t.test('operations rule: with METRICS_TOKEN set, /metrics needs it as a bearer token', async (t) => {
  const token = 'metrics-token-0123456789abcdefghijklmnop';
  const guarded = await startBroker(t, { metricsToken: token });
  const refusals: [string, Record<string, string>][] = [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer metrics-token-0123456789abcdefghijklmnoq' }],
    ['a prefix of the token', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['the token in another scheme', { authorization: `Basic ${token}` }],
  ];
  for (const [what, headers] of refusals) {
    const response = await fetch(`${guarded.url}/metrics`, { headers });
    t.equal(response.status, 401, `${what}: 401`);
    t.match(response.headers.get('www-authenticate'), /^Bearer\b/, `${what}: WWW-Authenticate: Bearer`);
    const body = (await response.json()) as { error: string; request_id: string };
    t.equal(body.error, 'unauthorized', `${what}: an error code`);
    t.ok(body.request_id, `${what}: the request id`);
  }
  const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200, 'the right token: 200');
  t.match(await ok.text(), /sso_logins_started_total/, 'the metrics');
  t.equal((await fetch(`${guarded.url}/healthz`)).status, 200, 'health checks need no token');
  t.equal((await fetch(`${guarded.url}/readyz`)).status, 200, 'nor does readiness');
});

t.test('operations rule: without METRICS_TOKEN, /metrics is open', async (t) => {
  const response = await fetch(`${broker.url}/metrics`);
  t.equal(response.status, 200);
  t.equal(response.headers.get('www-authenticate'), null);
});
