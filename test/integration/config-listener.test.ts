import { createServer, connect, type Socket } from 'node:net';
import t from 'tap';
import { ConfigChanges } from '../../src/domain/live-config/config-changes.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { waitFor } from '../helpers/wait.js';
import { testClient, testPool } from '../helpers/pg.js';

// The LISTEN connection behind live configuration (src/db/config-changes.ts) is lost whenever
// PostgreSQL restarts, fails over, or an operator kills idle sessions. It must come back by
// itself, as often as it is lost, also when a reconnect fails; /readyz says when it is down.

const databaseUrl = await testDatabaseUrl(t);
const admin = testPool({ connectionString: databaseUrl, max: 2 });
t.teardown(() => admin.end());

/** What an operator (or a failover) does to the listener: terminate its backend. */
async function killListeners(): Promise<number> {
  const { rowCount } = await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()",
  );
  return rowCount ?? 0;
}

t.test('live config rule: the listener reconnects as often as it is lost, also after failed reconnects', async (t) => {
  let changes = 0;
  let clients = 0;
  // Connections 2 (the first reconnect), 4 and 5 (two in a row) go to a closed port.
  const failing = new Set([2, 4, 5]);
  const listener = new ConfigChanges({
    connectionString: databaseUrl,
    onChange: () => changes++,
    log: { info() {}, warn() {} },
    newClient: () =>
      testClient({
        connectionString: failing.has(++clients) ? 'postgres://broker@127.0.0.1:1/closed' : databaseUrl,
      }),
  });
  t.teardown(() => listener.stop());
  const notified = async (what: string) => {
    const before = changes;
    await admin.query("SELECT pg_notify('sso_config_changed', '')");
    t.ok(await waitFor(() => changes > before), `${what}: a notification drops the caches`);
  };

  await listener.start();
  t.ok(listener.listening, 'listening after start');
  await notified('at start');

  let before = changes;
  t.equal(await killListeners(), 1, 'its backend is terminated');
  t.ok(await waitFor(() => !listener.listening), 'it notices');
  t.equal(changes, before, 'and keeps the caches: nobody can change the configuration while it is away');
  before = changes;
  t.ok(await waitFor(() => listener.listening), 'back, although its first reconnect failed');
  t.equal(clients, 3, 'on the second reconnect');
  t.ok(changes > before, 'and drops the caches again: what was read meanwhile may be stale');
  await notified('after one failed reconnect');

  t.equal(await killListeners(), 1);
  t.ok(await waitFor(() => !listener.listening));
  t.ok(await waitFor(() => listener.listening), 'back after two failed reconnects in a row');
  t.equal(clients, 6);
  await notified('after two failed reconnects');

  // A storm: every listening backend killed as soon as it shows up, for a second.
  let kills = 0;
  for (const end = Date.now() + 1_000; Date.now() < end;) {
    kills += await killListeners();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(kills >= 2, `killed again and again while reconnecting (${kills} times)`);
  t.ok(await waitFor(() => listener.listening, 15_000), 'back after the storm');
  await notified('after the storm');

  await listener.stop();
  t.notOk(listener.listening, 'stopped');
  const opened = clients;
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.equal(clients, opened, 'and no reconnect after stop()');
  t.equal(await killListeners(), 0, 'no listening connection left');
});

t.test(
  'live config rule: /readyz says degraded while the listener is down; changes reach other replicas again once it is back',
  async (t) => {
    // Caches live an hour: only a notification explains B seeing A's change.
    const a = await startBroker(t, { configCacheTtlSeconds: 3600 }, { databaseUrl });
    const b = await startBroker(t, { configCacheTtlSeconds: 3600, secretKeys: a.config.secretKeys }, { databaseUrl });
    const readyz = async (broker: TestBroker) => {
      const response = await fetch(`${broker.url}/readyz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    t.same(await readyz(b), { status: 200, body: { status: 'ok' } }, 'ready, listening');

    const app = (
      await a.admin('POST', '/admin/apps', { name: 'Listener', returnUrls: ['https://app.example.test/back'] })
    ).body as { id: string; secret: string };
    const redeemOnB = async (secret: string) =>
      (
        await fetch(`${b.url}/api/sso/tickets/redeem`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${app.id}:${secret}`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: '{"ticket":"none"}',
        })
      ).status;
    /** Rotates the app's secret through A; B must refuse the old one without a restart. */
    const rotateThroughA = async (what: string) => {
      const old = app.secret;
      t.equal(await redeemOnB(old), 400, `${what}: B authenticates the app (and caches it)`);
      app.secret = ((await a.admin('POST', `/admin/apps/${app.id}/rotate-secret`)).body as { secret: string }).secret;
      t.ok(await waitFor(async () => (await redeemOnB(old)) === 401, 3_000), `${what}: B refuses the old secret`);
      t.equal(await redeemOnB(app.secret), 400, `${what}: and accepts the new one`);
    };
    await rotateThroughA('before');

    // Kill both brokers' listeners again and again, watching B's readiness meanwhile.
    const seen = new Map<string, number>();
    let storming = true;
    const storm = (async () => {
      while (storming) {
        await killListeners();
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    for (const end = Date.now() + 1_500; Date.now() < end;) {
      const answer = await readyz(b);
      const key = `${answer.status} ${JSON.stringify(answer.body)}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    storming = false;
    await storm;
    t.ok(
      seen.has('200 {"status":"degraded","configListener":"down"}'),
      `degraded while down, still 200 (seen: ${[...seen.keys()].join(' | ')})`,
    );
    t.notOk(
      [...seen.keys()].some((key) => !key.startsWith('200 ')),
      'never taken out of the load balancer for it',
    );

    t.ok(await waitFor(async () => (await readyz(b)).body.status === 'ok', 15_000), 'ok again once it is back');
    await rotateThroughA('after');
  },
);

t.test(
  'live config rule: a connection dropped silently (a NAT forgot it) is found by the heartbeat and replaced',
  async (t) => {
    // A TCP relay to PostgreSQL that can go quiet: it stops passing bytes and never closes,
    // as a NAT or load balancer that dropped an idle flow does.
    const target = new URL(databaseUrl);
    let silent = false;
    const sockets = new Set<Socket>();
    const relay = createServer((inbound) => {
      const outbound = connect(Number(target.port), target.hostname);
      for (const socket of [inbound, outbound]) {
        sockets.add(socket);
        socket.on('error', () => {});
      }
      inbound.on('data', (chunk) => void (silent || outbound.write(chunk)));
      outbound.on('data', (chunk) => void (silent || inbound.write(chunk)));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      for (const socket of sockets) socket.destroy();
      relay.close();
    });
    const viaRelay = new URL(databaseUrl);
    viaRelay.host = `127.0.0.1:${(relay.address() as { port: number }).port}`;

    let changes = 0;
    let clients = 0;
    const listener = new ConfigChanges({
      connectionString: databaseUrl,
      onChange: () => changes++,
      log: { info() {}, warn() {} },
      heartbeatMs: 200,
      // The first connection goes through the relay; reconnects go straight to PostgreSQL.
      newClient: () =>
        testClient({ connectionString: ++clients === 1 ? viaRelay.href : databaseUrl, query_timeout: 500 }),
    });
    t.teardown(() => listener.stop());
    await listener.start();
    t.ok(listener.listening);

    silent = true;
    const before = changes;
    await admin.query("SELECT pg_notify('sso_config_changed', '')");
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.equal(changes, before, 'the notification is lost in the silent relay');
    t.ok(
      await waitFor(() => clients >= 2 && listener.listening, 5_000),
      'the heartbeat finds the dead connection and a new one listens',
    );
    t.ok(changes > before, 'and the caches are dropped, since notifications were missed');
    const again = changes;
    await admin.query("SELECT pg_notify('sso_config_changed', '')");
    t.ok(await waitFor(() => changes > again), 'notifications arrive again');
  },
);
