import t, { type Test } from 'tap';
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
  ['acme', 'globex', 'nul-names'].map(async (slug) => ({
    slug,
    ...(await registerAutoLoginTenant(broker, {
      slug,
      issuer: rogue.issuer(slug === 'nul-names' ? slug : 'good'),
      clientSecret: rogue.clientSecret,
    })),
  })),
);

t.test(
  'ticket rule: concurrent redemptions of many tickets, each answered from its own ticket, each once',
  async (t) => {
    const logins = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const tenant = tenants[i % tenants.length]!;
        const { ticket, error } = await tenant.login();
        if (!ticket) throw new Error(`login: ${error}`);
        return { tenant, slug: tenant.slug, ticket };
      }),
    );
    const answers = await Promise.all(
      logins.flatMap((login) =>
        [1, 2, 3].map(() => redeem(broker, login.tenant.app, login.ticket).then((answer) => ({ login, answer }))),
      ),
    );
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
    const { rows } = await broker.database.pool.query<{ nul: number }>(
      `SELECT count(*) FILTER (WHERE idp_sub IS NULL AND sid IS NULL)::int AS nul FROM tickets WHERE session_id = ANY($1::text[])`,
      [sessions],
    );
    t.equal(rows[0]!.nul, 4, "a sub or sid with a NUL is not kept, and fails nobody's redemption");
    const again = await Promise.all(logins.map((login) => redeem(broker, login.tenant.app, login.ticket)));
    t.ok(
      again.every((a) => a.status === 400 && a.body.error === 'invalid_ticket'),
      'every ticket is used up',
    );
    const text = await (await fetch(`${broker.url}/metrics`)).text();
    t.match(text, /^sso_ticket_claims_pending 0$/m, 'no claim left pending');
  },
);

// ClaimBatch itself, on the broker's database.

const claimOf = (key: string, sid: string | null = null): Claim => ({
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

/** A connection of the test's own (the broker's pool is not one short), ended at teardown. */
async function ownConnection(t: Test) {
  const client = testClient({ connectionString: broker.config.databaseUrl });
  t.teardown(() => client.end().catch(() => {}));
  await client.connect();
  return client;
}

async function pending(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  return (await metrics.ticketClaimsPending.get()).values[0]?.value ?? 0;
}

/** Claim INSERTs of this database waiting for a lock. */
async function insertsWaiting(): Promise<number> {
  const { rows } = await broker.database.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO tickets%'`,
  );
  return rows[0]!.n;
}

t.test('claims that arrive while an INSERT is in flight share the next one: one commit', async (t) => {
  const metrics = createMetrics();
  const batch = new ClaimBatch(broker.database.pool, metrics, { maxWaitMs: 60_000 });
  // Holding the table makes the first INSERT wait, so every other claim queues behind it.
  const lock = await ownConnection(t);
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE tickets IN SHARE MODE');
  const keys = Array.from({ length: 12 }, (_, i) => `group-${i}`);
  const first = batch.claim(claimOf(keys[0]!));
  t.ok(await waitFor(async () => (await insertsWaiting()) === 1), 'the first claim is in flight');
  const rest = keys.slice(1).map((key) => batch.claim(claimOf(key)));
  t.ok(await waitFor(() => pending(metrics).then((n) => n === 12)), 'eleven claims wait behind it');
  await lock.query('COMMIT');
  t.same(await Promise.all([first, ...rest]), Array(12).fill(true), 'every claim wins its key');
  const { rows } = await broker.database.pool.query<{ commits: number }>(
    `SELECT count(DISTINCT xmin::text)::int AS commits FROM tickets WHERE hash = ANY($1::text[])`,
    [keys],
  );
  t.equal(rows[0]!.commits, 2, 'two commits: the first claim, then the eleven together');
});

t.test('an INSERT stuck in flight holds up only its own claims', async (t) => {
  const batch = new ClaimBatch(broker.database.pool, createMetrics(), { maxWaitMs: 50 });
  // An uncommitted row with the same key: the claim's INSERT waits for that transaction.
  const other = await ownConnection(t);
  await other.query('BEGIN');
  await other.query(
    `INSERT INTO tickets (hash, transaction_id, session_id, app_id, tenant_id, connection_id, identity, expires_at)
     VALUES ('stuck-key', 'stuck-key', 'stuck-session', 'app', 'tenant', 'connection', '{}', now() + interval '1 minute')`,
  );
  let stuck: boolean | undefined;
  const stuckClaim = batch.claim(claimOf('stuck-key')).then((won) => (stuck = won));
  t.ok(await waitFor(async () => (await insertsWaiting()) === 1), 'the first INSERT waits');
  let free: boolean | undefined;
  const freeClaim = batch.claim(claimOf('free-key')).then((won) => (free = won));
  t.ok(await waitFor(() => free !== undefined), 'a later claim goes on its own');
  t.equal(free, true, 'and wins its key');
  t.equal(stuck, undefined, 'while the stuck one still waits');
  await other.query('ROLLBACK');
  await Promise.all([stuckClaim, freeClaim]);
  t.equal(stuck, true, 'which wins once the other transaction is gone');
});

t.test('two replicas claiming the same keys in opposite orders neither deadlock nor fail', async (t) => {
  const [one, two] = [
    new ClaimBatch(broker.database.pool, createMetrics()),
    new ClaimBatch(broker.database.pool, createMetrics()),
  ];
  // Each batch starts with the key the other ends with, with 100 keys of its own between:
  // inserted in that order, each would hold one and wait for the other's.
  const own = (side: string) => Array.from({ length: 100 }, (_, i) => `order-m-${side}-${i}`);
  const lock = await ownConnection(t);
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE tickets IN SHARE MODE');
  const first = ['order-a', ...own('one'), 'order-z'].map((key) => one.claim(claimOf(key)));
  const second = ['order-z', ...own('two'), 'order-a'].map((key) => two.claim(claimOf(key)));
  t.ok(await waitFor(async () => (await insertsWaiting()) === 2), 'both batches wait for the table');
  await lock.query('COMMIT');
  const [firsts, seconds] = await Promise.all([Promise.allSettled(first), Promise.allSettled(second)]);
  const failed = [...firsts, ...seconds].filter((o) => o.status === 'rejected');
  t.same(
    failed.map((o) => String((o as PromiseRejectedResult).reason)),
    [],
    'no claim fails',
  );
  const won = (o: PromiseSettledResult<boolean> | undefined) => Number(o?.status === 'fulfilled' && o.value);
  t.equal(won(firsts[0]) + won(seconds.at(-1)), 1, 'order-a is claimed once');
  t.equal(won(firsts.at(-1)) + won(seconds[0]), 1, 'order-z is claimed once');
});

t.test('a claim PostgreSQL refuses fails alone, not the claims committed with it', async (t) => {
  const batch = new ClaimBatch(broker.database.pool, createMetrics());
  const outcomes = await Promise.allSettled([
    batch.claim(claimOf('batch-a')),
    batch.claim(claimOf('batch-bad', 'a\u0000b')),
    batch.claim(claimOf('batch-b')),
    batch.claim(claimOf('batch-a')),
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
