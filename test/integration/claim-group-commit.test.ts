import t from 'tap';
import { ClaimBatch, type Claim } from '../../src/domain/tickets/claim-batch.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startBroker } from '../helpers/broker.js';
import { testClient } from '../helpers/pg.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { redeem, registerAutoLoginTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// Contract: POST /api/sso/tickets/redeem — exactly once, whatever arrives together. Concurrent
// claims share one INSERT and one commit (src/domain/tickets/claim-batch.ts); each redemption
// is still answered from its own ticket, and a hostile IdP's values cannot fail the others'.

const broker = await startBroker(t);
const rogue = await startRogueIdp(t, {
  good: {},
  // A sub and sid PostgreSQL cannot store as text (NUL): the session keeps no such name.
  'nul-names': {
    claims: (claims) => ({ ...claims, sub: `${String(claims.sub)}\u0000x`, sid: 'a\u0000b' }),
  },
});
const tenants = await Promise.all(
  ['acme', 'globex', 'nul-names'].map((slug) =>
    registerAutoLoginTenant(broker, {
      slug,
      issuer: rogue.issuer(slug === 'nul-names' ? slug : 'good'),
      clientSecret: rogue.clientSecret,
    }),
  ),
);

async function pendingClaims(): Promise<number> {
  const text = await (await fetch(`${broker.url}/metrics`)).text();
  return Number(/^sso_ticket_claims_pending (\S+)$/m.exec(text)?.[1] ?? NaN);
}

t.test(
  'ticket rule: concurrent redemptions of many tickets share a commit, each answered from its own ticket, each once',
  async (t) => {
    const logins = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const tenant = tenants[i % tenants.length]!;
        const { ticket, error } = await tenant.login();
        if (!ticket) throw new Error(`login: ${error}`);
        return { tenant, slug: ['acme', 'globex', 'nul-names'][i % tenants.length]!, ticket };
      }),
    );
    // Holding the table makes the first INSERT wait, so every other claim queues behind it:
    // the second INSERT then carries all of them, whatever the timing. (A connection of the
    // test's own, so the broker's pool is not one short.)
    const lock = testClient({ connectionString: broker.config.databaseUrl });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE tickets IN SHARE MODE');
    const attempts = logins.flatMap((login) =>
      [1, 2, 3].map(() => redeem(broker, login.tenant.app, login.ticket).then((answer) => ({ login, answer }))),
    );
    const all = Promise.all(attempts);
    t.ok(await waitFor(async () => (await pendingClaims()) === attempts.length), 'all 36 claims wait');
    await lock.query('COMMIT');
    await lock.end();
    const answers = await all;

    const sessions: string[] = [];
    for (const login of logins) {
      const own = answers.filter((a) => a.login === login);
      const won = own.filter((a) => a.answer.status === 200);
      t.equal(won.length, 1, `${login.slug}: one of three redemptions succeeds`);
      t.ok(
        own.filter((a) => a.answer.status === 400).every((a) => a.answer.body.error === 'invalid_ticket'),
        `${login.slug}: the other two get invalid_ticket`,
      );
      t.equal(won[0]?.answer.body.tenant, login.slug, 'answered from its own ticket');
      sessions.push(won[0]?.answer.body.session as string);
    }
    t.equal(new Set(sessions).size, logins.length, 'twelve sessions');
    const { rows } = await broker.database.pool.query<{ commits: number; nul: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS commits, count(*) FILTER (WHERE idp_sub IS NULL AND sid IS NULL)::int AS nul
       FROM tickets WHERE session_id = ANY($1::text[])`,
      [sessions],
    );
    t.ok(rows[0]!.commits <= 2, `the twelve claims took ${rows[0]!.commits} commits (at most 2)`);
    t.equal(rows[0]!.nul, 4, "a sub or sid with a NUL is not kept, and fails nobody's redemption");
    const again = await Promise.all(logins.map((login) => redeem(broker, login.tenant.app, login.ticket)));
    t.ok(
      again.every((a) => a.status === 400 && a.body.error === 'invalid_ticket'),
      'every ticket is used up',
    );
  },
);

t.test('a claim PostgreSQL refuses fails alone, not the claims committed with it', async (t) => {
  const batch = new ClaimBatch(broker.database.pool, createMetrics());
  const claim = (key: string, sid: string | null): Claim => ({
    key,
    sessionId: `session-${key}`,
    appId: 'app',
    tenantId: 'tenant',
    connectionId: 'connection',
    idTokenEnc: 'sealed',
    expiresAt: new Date(Date.now() + 60_000),
    idempotencyKey: null,
    names: { idpSub: 'sub', sid, subject: null },
  });
  const outcomes = await Promise.allSettled([
    batch.claim(claim('batch-a', null)),
    batch.claim(claim('batch-bad', 'a\u0000b')),
    batch.claim(claim('batch-b', null)),
    batch.claim(claim('batch-a', null)),
  ]);
  t.same(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'refused')),
    [true, 'refused', true, false],
    'the good claims win, the bad one fails alone, the repeated key loses',
  );
  const { rows } = await broker.database.pool.query<{ hash: string }>(
    `SELECT hash FROM tickets WHERE hash LIKE 'batch-%' ORDER BY hash`,
  );
  t.same(
    rows.map((r) => r.hash),
    ['batch-a', 'batch-b'],
  );
});
