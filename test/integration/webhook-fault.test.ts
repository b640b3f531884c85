import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { testDatabaseUrl } from '../helpers/db.js';
import { brokerReplicas } from '../helpers/replicas.js';
import { waitFor } from '../helpers/wait.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

// Contract v4, durable events: two broker processes on one database, events pending and
// deliveries in flight when one replica is SIGKILLed. Every event reaches the endpoint at
// least once (the survivor takes over the dead replica's jobs when they expire), and the
// restarted replica delivers too. How many arrived twice is reported, not asserted.

const EVENTS = 40;

t.test('a replica killed mid-delivery: every pending event is delivered, none lost', async (t) => {
  const databaseUrl = await testDatabaseUrl(t);
  const dir = await mkdtemp(join(tmpdir(), 'broker-webhook-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keysDir = join(dir, 'keys');
  await generateBrokerKey(keysDir, { kid: 'fault-key' });
  const adminToken = randomBytes(24).toString('base64url');
  const env = {
    DATABASE_URL: databaseUrl,
    SECRET_KEY: randomBytes(32).toString('base64url'),
    ADMIN_TOKEN: adminToken,
    KEYS_DIR: keysDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    WEBHOOK_PRIVATE_NETWORKS: '127.0.0.0/8',
  };
  const replicas = await brokerReplicas(t, env);
  const { urls } = replicas;
  const startReplica = async (i: number) => t.ok(await replicas.start(i), `replica ${i} ready`);
  await startReplica(0);
  await startReplica(1);
  const admin = async (replica: number, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${urls[replica]}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  // The endpoint takes a while to answer: deliveries are in flight when the replica dies, and
  // those it was making are never answered (their connection closes first): not delivered.
  const receiver = await startWebhookReceiver(t);
  const acknowledged: string[] = [];
  receiver.behave((request, response) => {
    const timer = setTimeout(() => {
      acknowledged.push(String(request.headers['webhook-id']));
      response.writeHead(200).end();
    }, 1_500);
    response.on('close', () => clearTimeout(timer));
  });
  const hook = await admin(0, 'POST', '/admin/webhooks', { url: receiver.url, events: ['session.ended'] });
  t.equal(hook.status, 201);

  // Events emitted through both replicas; each answer (202) means its event is stored.
  for (let i = 0; i < EVENTS; i++) {
    const accepted = await admin(i % 2, 'POST', `/admin/webhooks/${hook.body.id}/test`);
    t.equal(accepted.status, 202);
  }
  t.ok(await waitFor(() => receiver.open.size >= 8, 10_000), 'deliveries under way');
  const inFlight = receiver.open.size;
  replicas.kill(0);
  const killedAt = Date.now();
  await startReplica(0);

  const events = (await admin(1, 'GET', '/admin/events?type=webhook.test&limit=1000')).body.events as { id: string }[];
  t.equal(events.length, EVENTS, 'every event stored');
  const delivered = () => new Set(acknowledged);
  const all = await waitFor(() => events.every((e) => delivered().has(e.id)), 90_000);
  t.ok(all, 'every event delivered (answered 200) at least once');
  const missing = events.filter((e) => !delivered().has(e.id)).length;
  t.equal(missing, 0, 'none lost');
  const cut = receiver.received.length - acknowledged.length;
  t.ok(cut > 0, `the kill cut ${cut} deliveries short: the survivor took them over`);
  t.comment(
    `${EVENTS} events; ${inFlight} requests in flight at the kill; ${receiver.received.length} requests, ` +
      `${acknowledged.length} answered 200 (${acknowledged.length - delivered().size} twice); ` +
      `all delivered ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`,
  );
});
