import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { startHousekeeping } from '../../src/domain/housekeeping.js';
import { TicketRepo } from '../../src/domain/tickets/ticket.repo.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { MAX_CLAIMS_LENGTH, MAX_ID_TOKEN_LENGTH, MAX_USERINFO_LENGTH } from '../../src/oidc/identity-size.js';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { auditedLogins, redeem, registerAutoLoginTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';

// Bug (issue 21, finding A): an identity too large for a URL is stored as a ticket at mint,
// and nothing bounded it but the 512 KiB of an IdP answer: 20 scripted logins through a hostile
// IdP, no learner involved, wrote 20.9 MiB in a second, kept a day past expiry. Now the ID
// token, the userinfo answer and the claims together have a bound each (identity-size.ts),
// checked before anything is stored, and a stored ticket that expired unredeemed is purged
// within a minute.

const padding = (length: number) => 'x'.repeat(length);
// An Entra-like token with 250 groups (about 13 KiB): a stored ticket, well within the bounds.
const groups = Array.from({ length: 250 }, () => randomUUID());

/** An answer that never ends: 64 KiB chunks as fast as the reader takes them. */
function endless(res: ServerResponse, written: { bytes: number }, start: string) {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = padding(64 * 1024);
  let open = true;
  res.on('close', () => (open = false));
  const pump = () => {
    while (open) {
      written.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
  };
  res.write(start);
  pump();
}

const endlessUserinfo = { bytes: 0 };
const endlessToken = { bytes: 0 };
const rogue = await startRogueIdp(t, {
  groups: { claims: (claims) => ({ ...claims, groups }) },
  'huge-id-token': { claims: (claims) => ({ ...claims, padding: padding(MAX_ID_TOKEN_LENGTH) }) },
  'huge-userinfo': { userinfo: (claims) => ({ ...claims, padding: padding(MAX_USERINFO_LENGTH) }) },
  // Each under its own bound, too large together.
  'huge-claims': {
    claims: (claims) => ({ ...claims, a: padding(MAX_CLAIMS_LENGTH / 2) }),
    userinfo: (claims) => ({ ...claims, b: padding(MAX_CLAIMS_LENGTH / 2) }),
  },
  'endless-userinfo': { userinfo: () => (res) => endless(res, endlessUserinfo, '{"sub":"rogue-user-1","x":"') },
  'endless-token': {
    token: (res) => {
      endless(res, endlessToken, '{"token_type":"Bearer","access_token":"');
      return true;
    },
  },
});
const broker = await startBroker(t);
const tickets = async () =>
  (
    await broker.database.pool.query<{ rows: number; unredeemed: number; bytes: string }>(
      `SELECT count(*)::int AS rows, (count(*) FILTER (WHERE redeemed_at IS NULL))::int AS unredeemed,
              pg_total_relation_size('tickets')::text AS bytes FROM tickets`,
    )
  ).rows[0]!;

const tenants = new Map<string, Awaited<ReturnType<typeof registerAutoLoginTenant>>>();
for (const name of ['groups', 'huge-id-token', 'huge-userinfo', 'huge-claims', 'endless-userinfo', 'endless-token']) {
  tenants.set(
    name,
    await registerAutoLoginTenant(broker, {
      slug: `size-${name}`,
      issuer: rogue.issuer(name),
      clientSecret: rogue.clientSecret,
      // Userinfo required: an optional one that fails is skipped, and the ID token alone names the user.
      connection: { fetchUserinfo: name.includes('userinfo') || name === 'huge-claims' },
    }),
  );
}

t.test('a real IdP’s many groups still sign in (a stored ticket, redeemed once)', async (t) => {
  const tenant = tenants.get('groups')!;
  const before = await tickets();
  const { ticket, error } = await tenant.login();
  t.equal(error, null);
  t.ok(ticket!.length < 100, 'a stored ticket');
  t.equal((await tickets()).rows, before.rows + 1);
  const answer = await redeem(broker, tenant.app, ticket);
  t.equal(answer.status, 200);
  t.equal(answer.body.groups.length, 250);
});

for (const [name, what] of [
  ['huge-id-token', 'an ID token'],
  ['huge-userinfo', 'a userinfo answer'],
  ['huge-claims', 'claims'],
] as const) {
  t.test(`${name}: 20 scripted logins end in idp_error and store nothing`, async (t) => {
    const tenant = tenants.get(name)!;
    const before = await tickets();
    for (let i = 0; i < 20; i++) {
      const { ticket, error } = await tenant.login();
      if (error !== 'idp_error' || ticket !== null)
        t.fail(`login ${i}: error ${error}, ${ticket ? 'a ticket' : 'no ticket'}`);
    }
    t.same(await tickets(), before, 'not a row, not a byte more in the tickets table');
    const attempts = await auditedLogins(broker, `size-${name}`, 20);
    t.same(
      new Set(attempts.body.logins.map((l: { error: string }) => l.error)),
      new Set(['idp_error']),
      `audited as idp_error (${what} over its bound)`,
    );
  });
}

t.test('answers that never end are abandoned while they stream in: no ticket', async (t) => {
  for (const [name, written] of [
    ['endless-userinfo', endlessUserinfo],
    ['endless-token', endlessToken],
  ] as const) {
    const before = await tickets();
    const { ticket, error } = await tenants.get(name)!.login();
    t.equal(ticket, null, name);
    t.ok(error, `${name}: ${error}`);
    t.same(await tickets(), before, `${name}: nothing stored`);
    t.ok(written.bytes < 64 * 1024 * 1024, `${name}: reading stopped after ${written.bytes} bytes`);
  }
});

t.test('stored tickets that expire unredeemed are purged, sessions are kept', async (t) => {
  const tenant = tenants.get('groups')!;
  const repo = new TicketRepo(broker.database.pool, createMetrics());
  const unredeemed = await tenant.login();
  const redeemed = await tenant.login();
  t.equal((await redeem(broker, tenant.app, redeemed.ticket)).status, 200);
  await broker.database.pool.query(`UPDATE tickets SET expires_at = now() - interval '1 second'`);
  const before = await tickets();
  t.equal(before.unredeemed, 1);
  t.equal(await repo.purgeUnredeemed(), 1, 'the expired unredeemed one, at once');
  t.same([(await tickets()).rows, (await tickets()).unredeemed], [before.rows - 1, 0], 'the sessions stay');
  t.equal((await redeem(broker, tenant.app, unredeemed.ticket)).body.error, 'invalid_ticket');

  // The housekeeping timer runs it (every minute in production; here every 10 ms).
  const stale = await tenant.login();
  t.ok(stale.ticket);
  await broker.database.pool.query(`UPDATE tickets SET expires_at = now() - interval '1 second'`);
  t.equal((await tickets()).unredeemed, 1);
  const stop = startHousekeeping({
    audit: { purge: async () => 0 },
    tickets: repo,
    retentionDays: 30,
    unredeemedIntervalMs: 10,
    log: { info() {}, warn() {} },
  });
  t.teardown(stop);
  t.ok(await waitFor(async () => (await tickets()).unredeemed === 0), 'purged by housekeeping');
  t.equal((await tickets()).rows, before.rows - 1, 'and only it');
});
