import t from 'tap';
import { startBroker } from '../helpers/broker.js';

// Contract: RATE_LIMIT_PER_MINUTE per client IP on each public endpoint group (browser flow,
// ticket redemption — also per app —, admin); 429 with Retry-After.

t.test('abuse rule: each endpoint group answers 429 with Retry-After past the limit', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 5 });
  const groups: [string, () => Promise<Response>][] = [
    ['browser', () => fetch(`${broker.url}/api/sso/login?app=x&return_to=y`, { headers: { accept: 'application/json' } })],
    ['redeem', () => fetch(`${broker.url}/api/sso/tickets/redeem`, { method: 'POST', headers: { authorization: 'Basic YTpi' } })],
    ['admin', () => fetch(`${broker.url}/admin/tenants`, { headers: { authorization: `Bearer ${broker.adminToken}` } })],
  ];
  for (const [group, call] of groups) {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call()).status);
    t.notOk(statuses.includes(429), `${group}: the first 5 pass`);
    const limited = await call();
    t.equal(limited.status, 429, `${group}: the 6th is limited`);
    t.match(limited.headers.get('retry-after'), /^\d+$/, `${group}: with Retry-After`);
    t.equal(((await limited.json()) as { error: string }).error, 'rate_limited');
  }
  t.equal((await fetch(`${broker.url}/healthz`)).status, 200, 'health checks are not limited');
});

t.test('abuse rule: 0 turns the limits off', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 0 });
  const statuses = await Promise.all(Array.from({ length: 30 }, () => fetch(`${broker.url}/admin/tenants`, { headers: { authorization: `Bearer ${broker.adminToken}` } }).then((r) => r.status)));
  t.notOk(statuses.includes(429));
});

t.test('abuse rule: redemption is limited per app as well as per IP', async (t) => {
  const { request } = await import('node:http');
  const broker = await startBroker(t, { rateLimitPerMinute: 3 });
  const port = new URL(broker.url).port;
  // Each call from a different loopback address: the per-IP limit never trips, the per-app one does.
  const redeemFrom = (localAddress: string, appId: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/sso/tickets/redeem', method: 'POST', localAddress, headers: { authorization: `Basic ${Buffer.from(`${appId}:x`).toString('base64')}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{"ticket":"x"}');
    });
  const statuses: number[] = [];
  for (let i = 1; i <= 4; i++) statuses.push(await redeemFrom(`127.0.0.${10 + i}`, 'app-one'));
  t.same(statuses.slice(0, 3), [401, 401, 401], 'three attempts pass the limiter (and fail authentication)');
  t.equal(statuses[3], 429, 'the fourth for the same app is limited, from a fresh IP');
  t.equal(await redeemFrom('127.0.0.20', 'app-two'), 401, 'another app is not affected');
});
