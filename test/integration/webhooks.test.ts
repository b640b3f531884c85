import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, redeem, registerTenant, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';
import { answer, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

// Contract v4, "Events and webhooks": the admin endpoints, who receives what, Standard
// Webhooks signatures, the retry schedule's first step, rotation, and hostile endpoints.

const logs: string[] = [];
const broker = await startBroker(t, {}, { captureLogs: logs, webhookQueue: { pollingIntervalSeconds: 0.5 } });
const idp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const acme = await registerTenant(broker, idp, { method: 'client_secret_post' });
const globex = await registerTenant(broker, idp, { method: 'client_secret_post' });

type Delivery = { event: string; type: string; attempt: number; status: number | null; error?: string };
const deliveries = async (id: string) =>
  (await broker.admin('GET', `/admin/webhooks/${id}/deliveries`)).body.deliveries as Delivery[];

async function endpoint(receiver: WebhookReceiver, body: Record<string, unknown> = {}) {
  const created = await broker.admin('POST', '/admin/webhooks', {
    url: receiver.url,
    events: ['session.ended'],
    ...body,
  });
  if (created.status !== 201) throw new Error(`webhook: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body as { id: string; secret: string };
}

/** A learner of the scenario signs in, the app redeems, then signs them out: one session.ended. */
async function signInAndOut(scenario: Scenario) {
  const browser = new TestBrowser();
  const back = await signIn(browser, scenario.loginUrl(), String(ADA.claims.email), scenario.returnTo);
  const session = (await redeem(broker, scenario.app, back.searchParams.get('ticket'))).body.session as string;
  const query = new URLSearchParams({ app: scenario.app.id, session, post_logout_redirect_uri: scenario.returnTo });
  const logout = await fetch(`${broker.url}/api/sso/logout?${query}`, { redirect: 'manual' });
  if (logout.status !== 302) throw new Error(`logout: ${logout.status}`);
  return session;
}

t.test('an endpoint: its secret once, never again; bad requests are 400', async (t) => {
  const receiver = await startWebhookReceiver(t);
  const created = await endpoint(receiver, { description: 'LMS portal' });
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'whsec_ and the base64 of 32 bytes');
  t.equal(Buffer.from(created.secret.slice(6), 'base64').length, 32);
  const read = await broker.admin('GET', `/admin/webhooks/${created.id}`);
  t.equal(read.status, 200);
  t.notOk('secret' in read.body, 'never in a read');
  t.same(
    { url: read.body.url, events: read.body.events, app: read.body.app, enabled: read.body.enabled },
    { url: receiver.url, events: ['session.ended'], app: null, enabled: true },
  );
  const list = await broker.admin('GET', '/admin/webhooks');
  t.ok(
    list.body.some((w: { id: string }) => w.id === created.id),
    'listed',
  );
  t.notOk(JSON.stringify(list.body).includes('whsec_'), 'never in the list');

  const refused: [string, Record<string, unknown>][] = [
    ['an app endpoint subscribing to connection events', { app: acme.app.id, events: ['connection.activated'] }],
    ['an unknown app', { app: 'no-such-app' }],
    ['an unknown event type', { events: ['session.started'] }],
    ['no events', { events: [] }],
    ['an ftp URL', { url: 'ftp://127.0.0.1/hooks' }],
    ['credentials in the URL', { url: 'https://user:pass@hooks.example/' }],
    ['an unknown field', { secret: 'whsec_mine' }],
  ];
  for (const [name, change] of refused) {
    const response = await broker.admin('POST', '/admin/webhooks', {
      url: receiver.url,
      events: ['session.ended'],
      ...change,
    });
    t.equal(response.status, 400, name);
  }
  const patched = await broker.admin('PATCH', `/admin/webhooks/${created.id}`, { description: null });
  t.equal(patched.body.description, null);
  t.equal((await broker.admin('DELETE', `/admin/webhooks/${created.id}`)).status, 204);
  t.equal((await broker.admin('GET', `/admin/webhooks/${created.id}`)).status, 404);
});

t.test('a test event: signed as Standard Webhooks say, to the endpoint that asked only', async (t) => {
  const receiver = await startWebhookReceiver(t);
  const bystander = await startWebhookReceiver(t);
  const hook = await endpoint(receiver);
  await endpoint(bystander);
  const test = await broker.admin('POST', `/admin/webhooks/${hook.id}/test`);
  t.equal(test.status, 202);
  t.ok(await waitFor(() => receiver.received.length === 1), 'delivered');
  const [delivery] = receiver.received;
  t.equal(delivery?.headers['content-type'], 'application/json');
  const body = JSON.parse(delivery!.body) as { type: string; timestamp: string; data: unknown };
  t.equal(body.type, 'webhook.test');
  t.same(body.data, {});
  t.match(delivery?.headers['webhook-signature'], /^v1,[A-Za-z0-9+/=]+$/);
  t.ok(Math.abs(Number(delivery?.headers['webhook-timestamp']) - Date.now() / 1000) < 60, 'Unix seconds of now');
  const verified = new Webhook(hook.secret).verify(delivery!.body, delivery!.headers) as { type: string };
  t.equal(verified.type, 'webhook.test', 'the standardwebhooks library verifies it with the secret');
  t.throws(
    () => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(delivery!.body, delivery!.headers),
    'and not with another secret',
  );
  const events = (await broker.admin('GET', '/admin/events?type=webhook.test')).body.events as { id: string }[];
  t.equal(delivery?.headers['webhook-id'], events.at(-1)?.id, 'webhook-id is the event id');
  t.same(bystander.received, [], 'the other endpoint got nothing');
  t.ok(await waitFor(async () => (await deliveries(hook.id)).length === 1));
  t.match((await deliveries(hook.id))[0], { type: 'webhook.test', attempt: 1, status: 204 });
  t.notOk(
    logs.some((line) => line.includes('whsec_')),
    'no secret in the logs',
  );
});

t.test('session.ended reaches its app’s endpoint and the operators’, never another app’s', async (t) => {
  const acmeReceiver = await startWebhookReceiver(t);
  const globexReceiver = await startWebhookReceiver(t);
  const operatorReceiver = await startWebhookReceiver(t);
  const configOnly = await startWebhookReceiver(t);
  await endpoint(acmeReceiver, { app: acme.app.id });
  await endpoint(globexReceiver, { app: globex.app.id });
  await endpoint(operatorReceiver);
  await endpoint(configOnly, { events: ['connection.activated'] });
  const session = await signInAndOut(acme);
  t.ok(await waitFor(() => acmeReceiver.received.length === 1 && operatorReceiver.received.length === 1));
  const body = JSON.parse(acmeReceiver.received[0]!.body) as { type: string; data: Record<string, unknown> };
  t.equal(body.type, 'session.ended');
  t.match(body.data, { app: acme.app.id, session, tenant: acme.tenant, reason: 'rp_logout', subject: ADA.sub });
  t.equal(
    acmeReceiver.received[0]?.headers['webhook-id'],
    operatorReceiver.received[0]?.headers['webhook-id'],
    'one event, one id',
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(globexReceiver.received, [], 'another app’s endpoint: nothing');
  t.same(configOnly.received, [], 'an endpoint not subscribed to session.ended: nothing');
});

t.test('a failed attempt is retried after about 5 s with the same id; retry on demand', async (t) => {
  const receiver = await startWebhookReceiver(t);
  receiver.behave(answer(500, 'down for maintenance'));
  const hook = await endpoint(receiver, { events: ['session.ended'] });
  await broker.admin('POST', `/admin/webhooks/${hook.id}/test`);
  t.ok(await waitFor(async () => (await deliveries(hook.id)).length === 1));
  const first = (await broker.admin('GET', `/admin/webhooks/${hook.id}/deliveries`)).body.deliveries[0];
  t.match(first, { attempt: 1, status: 500, error: 'answered 500' });
  const delay = Date.parse(first.nextAttemptAt) - Date.parse(first.at);
  t.equal(delay, 5000, 'the next attempt is scheduled 5 s later');
  receiver.behave(answer(200));
  t.ok(await waitFor(() => receiver.received.length === 2, 15_000), 'attempted again');
  const [one, two] = receiver.received;
  t.equal(two?.headers['webhook-id'], one?.headers['webhook-id'], 'the same webhook-id on every attempt');
  t.ok(two!.at - one!.at >= 4_500, `about 5 s apart (${two!.at - one!.at} ms)`);
  t.ok(await waitFor(async () => (await deliveries(hook.id))[0]?.status === 200));
  t.match((await deliveries(hook.id))[0], { attempt: 2, status: 200 });

  const retry = await broker.admin('POST', `/admin/webhooks/${hook.id}/deliveries/${first.event}/retry`);
  t.equal(retry.status, 202);
  t.ok(await waitFor(() => receiver.received.length === 3), 'delivered again on demand');
  t.equal(receiver.received[2]?.headers['webhook-id'], one?.headers['webhook-id']);
  t.equal((await broker.admin('POST', `/admin/webhooks/${hook.id}/deliveries/evt_nope/retry`)).status, 404);
  // Another endpoint's event is not this endpoint's to ask for.
  const other = await endpoint(await startWebhookReceiver(t), { events: ['session.ended'] });
  t.equal((await broker.admin('POST', `/admin/webhooks/${other.id}/deliveries/${first.event}/retry`)).status, 404);
});

t.test('rotation: for 24 h both secrets sign every delivery', async (t) => {
  const receiver = await startWebhookReceiver(t);
  const hook = await endpoint(receiver);
  const rotated = await broker.admin('POST', `/admin/webhooks/${hook.id}/rotate-secret`);
  t.equal(rotated.status, 200);
  t.not(rotated.body.secret, hook.secret);
  await broker.admin('POST', `/admin/webhooks/${hook.id}/test`);
  t.ok(await waitFor(() => receiver.received.length === 1));
  const delivery = receiver.received[0]!;
  t.equal(delivery.headers['webhook-signature']?.split(' ').length, 2, 'two signatures');
  for (const secret of [hook.secret, rotated.body.secret as string]) {
    t.doesNotThrow(() => new Webhook(secret).verify(delivery.body, delivery.headers), 'verifies with either secret');
  }
});

t.test('hostile endpoints cost a bounded amount and delay no login', async (t) => {
  const hanging = await startWebhookReceiver(t);
  hanging.behave(() => {}); // never answers
  const huge = await startWebhookReceiver(t);
  huge.behave((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 160; i++) response.write(chunk); // 10 MB
    response.end();
  });
  const trickle = await startWebhookReceiver(t);
  trickle.behave((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => response.write('.'), 1000);
    response.on('close', () => clearInterval(timer));
  });
  const redirecting = await startWebhookReceiver(t);
  const target = await startWebhookReceiver(t);
  redirecting.behave((_request, response) => void response.writeHead(307, { location: target.url }).end());
  const hooks = await Promise.all([hanging, huge, trickle, redirecting].map((r) => endpoint(r)));

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  await Promise.all(hooks.map((hook) => broker.admin('POST', `/admin/webhooks/${hook.id}/test`)));
  t.ok(await waitFor(() => hanging.received.length === 1), 'the hanging endpoint has the request');
  // A login while that delivery hangs: it completes long before the delivery gives up.
  const browser = new TestBrowser();
  const back = await signIn(browser, acme.loginUrl(), String(ADA.claims.email), acme.returnTo);
  t.ok(back.searchParams.get('ticket'), 'a login completes meanwhile');
  t.equal((await deliveries(hooks[0]!.id)).length, 0, 'while the hanging delivery is still waiting');
  t.ok(await waitFor(async () => (await deliveries(hooks[0]!.id)).length === 1, 15_000));
  delay.disable();
  const [hang, big, slow, redirect] = await Promise.all(hooks.map(async (hook) => (await deliveries(hook.id))[0]));
  t.match(hang, { status: null, error: 'no answer within 10 s' });
  t.match(big, { status: 200 }, '10 MB answered: a delivery, its body never read');
  t.match(slow, { status: 200 }, 'a byte a second: a delivery, its body never read');
  t.ok((slow as unknown as { durationMs: number }).durationMs < 5_000, 'without waiting for the trickle');
  t.match(redirect, { status: 307, error: 'answered 307' }, 'a redirect is a failure, not followed');
  t.same(target.received, [], 'the redirect’s target got nothing');
  t.ok(delay.max / 1e6 < 500, `the event loop never stalled (max ${Math.round(delay.max / 1e6)} ms)`);
});

t.test('WEBHOOK_PRIVATE_NETWORKS: an address not listed is refused when connecting', async (t) => {
  const policed = await startBroker(t, { webhookPrivateNetworks: ['127.0.0.1/32'] });
  const elsewhere = await startWebhookReceiver(t, '127.0.0.2');
  const created = await policed.admin('POST', '/admin/webhooks', { url: elsewhere.url, events: ['session.ended'] });
  t.equal(created.status, 201, 'the URL is accepted: where it leads is decided at connect time');
  await policed.admin('POST', `/admin/webhooks/${created.body.id}/test`);
  let attempts: Delivery[] = [];
  t.ok(
    await waitFor(async () => {
      attempts = (await policed.admin('GET', `/admin/webhooks/${created.body.id}/deliveries`)).body.deliveries;
      return attempts.length === 1;
    }, 10_000),
  );
  t.match(attempts[0], {
    status: null,
    error: /refused by the network policy: .*WEBHOOK_PRIVATE_NETWORKS.*127\.0\.0\.2/,
  });
  t.same(elsewhere.received, [], 'nothing reached it');
});

t.test('events: a cursor that never skips, a type filter, 400 for a cursor it did not give', async (t) => {
  const first = await broker.admin('GET', '/admin/events?limit=1');
  t.equal(first.status, 200);
  t.equal(first.body.events.length, 1);
  const second = await broker.admin('GET', `/admin/events?limit=1&after=${first.body.next}`);
  t.not(second.body.events[0].id, first.body.events[0].id, 'the next page starts after');
  const all = (await broker.admin('GET', '/admin/events?limit=1000')).body;
  const end = await broker.admin('GET', `/admin/events?after=${all.next}`);
  t.same(end.body, { events: [], next: all.next }, 'nothing new: the same cursor again');
  t.equal((await broker.admin('GET', '/admin/events?after=not-a-cursor')).status, 400);
  t.equal((await broker.admin('GET', '/admin/events?type=nope')).status, 400);
  const metrics = await (await fetch(`${broker.url}/metrics`)).text();
  t.match(metrics, /sso_events_emitted_total\{type="webhook.test"\} \d+/);
  t.match(metrics, /sso_webhook_deliveries_total\{outcome="delivered"\} \d+/);
  t.match(metrics, /sso_webhook_deliveries_total\{outcome="retrying"\} \d+/);
  t.match(metrics, /sso_webhook_queue_depth \d+/);
  t.match(metrics, /sso_webhook_oldest_undelivered_seconds [\d.]+/);
});

t.test(
  'an endpoint whose every delivery failed for 3 days is disabled, says why, and can be enabled again',
  async (t) => {
    const receiver = await startWebhookReceiver(t);
    receiver.behave(answer(500));
    const hook = await endpoint(receiver);
    await broker.admin('POST', `/admin/webhooks/${hook.id}/test`);
    t.ok(await waitFor(async () => (await deliveries(hook.id)).length === 1));
    t.equal((await broker.admin('GET', `/admin/webhooks/${hook.id}`)).body.enabled, true, 'one failure: still on');
    // Its run of failures began 3 days ago (as if every attempt since had failed).
    await broker.database.pool.query(
      `UPDATE webhook_endpoints SET failing_since = now() - interval '3 days 1 minute' WHERE id = $1`,
      [hook.id],
    );
    await broker.admin('POST', `/admin/webhooks/${hook.id}/test`);
    t.ok(
      await waitFor(async () => (await broker.admin('GET', `/admin/webhooks/${hook.id}`)).body.enabled === false),
      'disabled by the next failure',
    );
    const disabled = (await broker.admin('GET', `/admin/webhooks/${hook.id}`)).body;
    t.notOk('nextAttemptAt' in (await deliveries(hook.id))[0]!, 'the attempt that disabled it has no next one');
    t.match(disabled.disabledReason, /^Every delivery failed for 3 days, since \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    // A test event while disabled: no delivery is even enqueued (decided when the event is stored).
    const testEvents = async () =>
      ((await broker.admin('GET', '/admin/events?type=webhook.test&limit=1000')).body.events as { id: string }[]).map(
        (e) => e.id,
      );
    const newEvent = async () => {
      const known = new Set(await testEvents());
      t.equal((await broker.admin('POST', `/admin/webhooks/${hook.id}/test`)).status, 202);
      return (await testEvents()).find((id) => !known.has(id))!;
    };
    const skipped = await newEvent();
    const jobs = await broker.database.pool.query(`SELECT 1 FROM pgboss.job WHERE data->>'event' = $1`, [skipped]);
    t.equal(jobs.rows.length, 0, 'no delivery of it exists');
    const ids = () => receiver.received.map((r) => r.headers['webhook-id']);
    t.notOk(ids().includes(skipped), 'a disabled endpoint receives nothing');
    receiver.behave(answer(204));
    const enabled = await broker.admin('PATCH', `/admin/webhooks/${hook.id}`, { enabled: true });
    t.equal(enabled.body.enabled, true);
    t.notOk('disabledReason' in enabled.body, 'the reason is cleared');
    const latest = await newEvent();
    t.ok(await waitFor(() => ids().includes(latest)), 'delivered again');
  },
);
