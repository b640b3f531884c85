import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { loadBrokerKeys } from '../../src/config/broker-keys.js';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Rotating the broker's own private_key_jwt key without downtime (README, "Broker keys"):
// several keys in KEYS_DIR, all published; SIGNING_KEY_ID names the one that signs; a
// connection whose IdP still trusts only the old key pins it until its engineer registers the new.

let keysDir = '';
const broker = await startBroker(
  t,
  { signingKeyId: 'key-2026' },
  {
    prepareKeys: async (dir) => {
      keysDir = dir;
      await generateBrokerKey(dir, { kid: 'key-2025' });
      await generateBrokerKey(dir, { kid: 'key-2026' });
    },
  },
);
const oldKey = broker.keys.keys.get('key-2025')!;
const newKey = broker.keys.keys.get('key-2026')!;
const onlyOld = { keys: [oldKey.publicJwk] };
// An IdP whose engineer registered the old key only, and one that reads the broker's JWKS.
const lagging = await startIdp(t, { redirectUri: broker.config.callbackUrl, brokerJwks: onlyOld, accounts: [ADA] });
const current = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});

async function login(scenario: Awaited<ReturnType<typeof registerTenant>>) {
  const back = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  return { ticket: back.searchParams.get('ticket'), error: back.searchParams.get('error') };
}

t.test('every key is published, with its certificate; SIGNING_KEY_ID is the active one', async (t) => {
  const jwks = (await (await fetch(`${broker.url}/.well-known/jwks.json`)).json()) as {
    keys: Record<string, unknown>[];
  };
  t.same(
    jwks.keys.map((k) => k.kid),
    ['key-2025', 'key-2026'],
  );
  for (const key of jwks.keys) t.match(key, { x5c: [String], 'x5t#S256': String, x5t: String });
  const setup = (await (
    await fetch(`${broker.url}/api/sso/setup`, { headers: { accept: 'application/json' } })
  ).json()) as any;
  t.same(
    setup.signing_keys.map((k: { kid: string; active: boolean }) => [k.kid, k.active]),
    [
      ['key-2025', false],
      ['key-2026', true],
    ],
  );
});

t.test('an unpinned connection signs with the active key: kid and x5t#S256 name it', async (t) => {
  const scenario = await registerTenant(broker, current, { method: 'private_key_jwt' });
  const before = current.assertions.length;
  t.ok((await login(scenario)).ticket);
  t.match(current.assertions[before]!.header, { kid: 'key-2026', 'x5t#S256': newKey.x5tS256, x5t: newKey.x5t });
});

t.test('an IdP that trusts only the old key refuses the new one, until the connection pins the old key', async (t) => {
  const scenario = await registerTenant(broker, lagging, { method: 'private_key_jwt' });
  t.equal((await login(scenario)).error, 'token_exchange_failed', 'the IdP does not know key-2026');

  const pinned = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, {
    signingKeyId: 'key-2025',
  });
  t.equal(pinned.status, 200);
  t.equal(pinned.body.signingKeyId, 'key-2025');
  const before = lagging.assertions.length;
  t.ok((await login(scenario)).ticket, 'pinned: the login works again, no restart');
  t.match(lagging.assertions[before]!.header, { kid: 'key-2025', 'x5t#S256': oldKey.x5tS256 });
  t.equal(
    oldKey.x5tS256,
    createHash('sha256').update(Buffer.from(oldKey.publicJwk.x5c![0]!, 'base64')).digest('base64url'),
  );

  // The IdP engineer registers the new key; the operator removes the pin.
  const unpinned = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { signingKeyId: null });
  t.equal(unpinned.body.signingKeyId, null);
  t.equal(
    (await login(scenario)).error,
    'token_exchange_failed',
    'unpinned again: the active key, which this IdP still does not know',
  );
});

t.test('a pin must name a loaded key; retiring a key leaves the others and the pins to check', async (t) => {
  const scenario = await registerTenant(broker, current, { method: 'private_key_jwt' });
  const bad = await broker.admin('PATCH', `/admin/connections/${scenario.connectionId}`, { signingKeyId: 'key-1999' });
  t.equal(bad.status, 400);
  t.match(bad.body, { error: 'invalid_request', details: [{ path: 'signingKeyId' }] });

  // Retiring: the key file goes; the next start publishes only the remaining key.
  await rm(join(keysDir, 'key-2025.pem'));
  await rm(join(keysDir, 'key-2025.crt'));
  const reloaded = await loadBrokerKeys(keysDir, 'key-2026');
  t.same(
    reloaded.jwks().keys.map((k) => k.kid),
    ['key-2026'],
  );
});
