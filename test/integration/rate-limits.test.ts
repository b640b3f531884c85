import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import t from 'tap';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { registerAutoLoginTenant } from '../helpers/scenario.js';

// Contract: RATE_LIMIT_PER_MINUTE per client IP on each public endpoint group (browser flow,
// ticket redemption — also per authenticated app —, admin); 429 with Retry-After. Rate limits
// on redemption never let a third party lock an app out: requests that fail authentication
// count against the client's address, and only authenticated requests count against the app.

t.test('abuse rule: each endpoint group answers 429 with Retry-After past the limit', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 5 });
  const groups: [string, () => Promise<Response>][] = [
    [
      'browser',
      () => fetch(`${broker.url}/api/sso/login?app=x&return_to=y`, { headers: { accept: 'application/json' } }),
    ],
    [
      'redeem',
      () => fetch(`${broker.url}/api/sso/tickets/redeem`, { method: 'POST', headers: { authorization: 'Basic YTpi' } }),
    ],
    [
      'admin',
      () => fetch(`${broker.url}/admin/tenants`, { headers: { authorization: `Bearer ${broker.adminToken}` } }),
    ],
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
  const statuses = await Promise.all(
    Array.from({ length: 30 }, () =>
      fetch(`${broker.url}/admin/tenants`, { headers: { authorization: `Bearer ${broker.adminToken}` } }).then(
        (r) => r.status,
      ),
    ),
  );
  t.notOk(statuses.includes(429));
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  error: string | undefined;
}

/** A redemption sent from `localAddress` (a loopback address: each one is a distinct client IP). */
function redeemFrom(
  broker: TestBroker,
  localAddress: string,
  credentials: string | undefined,
  ticket = 'no-such-ticket',
): Promise<Answer> {
  const { port } = new URL(broker.url);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/sso/tickets/redeem',
        method: 'POST',
        localAddress,
        headers: {
          'content-type': 'application/json',
          ...(credentials && { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
            error: body ? (JSON.parse(body) as { error?: string }).error : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ ticket }));
  });
}

async function registerApp(broker: TestBroker, name: string): Promise<{ id: string; secret: string }> {
  const created = await broker.admin('POST', '/admin/apps', {
    name,
    returnUrls: [`https://${name}.example.test/back`],
  });
  if (created.status !== 201) throw new Error(`app not created: ${created.status}`);
  return created.body;
}

t.test(
  'abuse rule: wrong secrets for a known app id, even from the app’s own address, never lock the app out',
  async (t) => {
    const broker = await startBroker(t, { rateLimitPerMinute: 3 });
    const app = await registerApp(broker, 'victim');
    const attacker = await Promise.all(
      Array.from({ length: 10 }, () => redeemFrom(broker, '127.0.0.1', `${app.id}:wrong-secret`)),
    );
    t.same(
      attacker.map((a) => a.status).sort(),
      [401, 401, 401, 429, 429, 429, 429, 429, 429, 429],
      'the guesser gets 401 up to the limit of its address, then 429',
    );
    t.ok(
      attacker
        .filter((a) => a.status === 429)
        .every((a) => a.error === 'rate_limited' && /^\d+$/.test(a.retryAfter ?? '')),
      'rate_limited, with Retry-After',
    );
    t.ok(
      attacker.filter((a) => a.status === 401).every((a) => a.error === 'invalid_client'),
      'invalid_client under the limit',
    );
    t.equal(
      (await redeemFrom(broker, '127.0.0.1', undefined)).status,
      429,
      'missing credentials count against the address too',
    );

    for (let i = 0; i < 3; i++) {
      const real = await redeemFrom(broker, '127.0.0.1', `${app.id}:${app.secret}`);
      t.same(
        [real.status, real.error],
        [400, 'invalid_ticket'],
        `the app’s own redemption ${i + 1}, from the same address, is served`,
      );
    }
  },
);

t.test('abuse rule: only authenticated requests count against the app, and past its limit they get 429', async (t) => {
  const broker = await startBroker(t, { rateLimitPerMinute: 3 });
  const app = await registerApp(broker, 'busy');
  const other = await registerApp(broker, 'other');

  // A guesser spreading wrong secrets over many addresses never trips any limit: each address
  // stays under its own, and none of these counts against the app.
  const guesses: number[] = [];
  for (let i = 0; i < 8; i++)
    guesses.push((await redeemFrom(broker, `127.0.0.${20 + i}`, `${app.id}:wrong-secret`)).status);
  t.same(guesses, Array(8).fill(401), 'wrong secrets from fresh addresses: 401 each');

  // The app itself, from fresh addresses each time: its limit is per app, not per address.
  const own: Answer[] = [];
  for (let i = 0; i < 4; i++) own.push(await redeemFrom(broker, `127.0.0.${40 + i}`, `${app.id}:${app.secret}`));
  t.same(
    own.slice(0, 3).map((a) => a.status),
    [400, 400, 400],
    'the app’s first 3 redemptions are served (invalid_ticket)',
  );
  t.same([own[3]!.status, own[3]!.error], [429, 'rate_limited'], 'its 4th is limited, from a fresh address');
  t.match(own[3]!.retryAfter, /^\d+$/, 'with Retry-After');

  t.equal(
    (await redeemFrom(broker, '127.0.0.60', `${app.id}:wrong-secret`)).status,
    401,
    'a failing request is not refused for the app’s own traffic',
  );
  t.equal(
    (await redeemFrom(broker, '127.0.0.41', `${other.id}:${other.secret}`)).status,
    400,
    'another app, from an address the first one used, is not affected',
  );
});

t.test(
  'abuse rule: guessed app ids are counted before they are looked up; past the address limit none reaches the database',
  async (t) => {
    // Bug (issue 21, finding B): 200 redemptions with random app ids from one address were
    // 180 × 429 but 200 app lookups: the address was counted only after each lookup.
    const broker = await startBroker(t, { rateLimitPerMinute: 20 });
    const rogue = await startRogueIdp(t, { ok: {} });
    const legit = await registerAutoLoginTenant(broker, {
      slug: 'guessed',
      issuer: rogue.issuer('ok'),
      clientSecret: rogue.clientSecret,
    });
    let appLookups = 0;
    const query = broker.database.pool.query.bind(broker.database.pool);
    broker.database.pool.query = ((...args: Parameters<typeof query>) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      if (text?.includes('"apps"')) appLookups++;
      return query(...args);
    }) as typeof query;

    const answers: Answer[] = [];
    // 200 guesses, 20 at a time: concurrent ones must not slip past the count either.
    for (let batch = 0; batch < 10; batch++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, () => redeemFrom(broker, '127.0.0.70', `${randomUUID()}:guessed-secret`)),
        )),
      );
    }
    const refused = answers.filter((a) => a.status === 429);
    t.same(
      [answers.filter((a) => a.status === 401).length, refused.length],
      [20, 180],
      'the guesses within the address limit are 401, the rest 429',
    );
    t.ok(
      refused.every((a) => a.error === 'rate_limited' && /^\d+$/.test(a.retryAfter ?? '')),
      'rate_limited, with Retry-After',
    );
    t.equal(appLookups, 20, 'one app lookup per guess within the limit, none past it');

    const { ticket } = await legit.login();
    const lookupsBefore = appLookups;
    const served = await redeemFrom(broker, '127.0.0.71', `${legit.app.id}:${legit.app.secret}`, ticket!);
    t.equal(served.status, 200, 'the real app redeems its ticket from another address');
    t.same(
      [(await redeemFrom(broker, '127.0.0.70', `${legit.app.id}:${legit.app.secret}`)).status],
      [400],
      'and is served (invalid_ticket) from the guesser’s own address too, being an app the broker holds',
    );
    t.equal(appLookups, lookupsBefore, 'from the cached record');
    t.equal(
      (await redeemFrom(broker, '127.0.0.70', `${legit.app.id}:wrong-secret`)).status,
      429,
      'a wrong secret for it from there is still refused by the limit',
    );
  },
);
