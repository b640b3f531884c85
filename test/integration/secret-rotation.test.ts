import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { ConnectionRepo } from '../../src/domain/connections/connection.repo.js';
import { reencryptClientSecrets } from '../../src/domain/connections/reencrypt-secrets.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// SECRET_KEY rotation: the first key encrypts, all decrypt; re-encryption moves every IdP
// client secret to the first key, after which the old key can go.

t.test('secret rule: after rotation old client secrets still work, and re-encryption frees the old key', async (t) => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const broker = await startBroker(t, { secretKeys: [newKey, oldKey] });
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const stored = async () =>
    (
      await broker.database.pool.query('SELECT client_secret_enc FROM connections WHERE id = $1', [
        scenario.connectionId,
      ])
    ).rows[0].client_secret_enc as string;
  // As it was stored before the rotation: sealed with the old key.
  const purpose = `connection-client-secret:${scenario.connectionId}`;
  const before = new SecretBox([oldKey]).seal(idp.secretClient.clientSecret, purpose);
  await broker.database.pool.query('UPDATE connections SET client_secret_enc = $2, updated_at = now() WHERE id = $1', [
    scenario.connectionId,
    before,
  ]);

  const viaOld = await signIn(new TestBrowser(), scenario.loginUrl(), ADA.claims.email, scenario.returnTo);
  t.ok(viaOld.searchParams.get('ticket'), 'a secret sealed with the old key still opens');

  const result = await reencryptClientSecrets(
    new ConnectionRepo(broker.database.prisma),
    new SecretBox([newKey, oldKey]),
  );
  t.same(result, { resealed: 1, unreadable: [] });
  const after = await stored();
  t.not(after, before, 're-sealed');
  t.equal(new SecretBox([newKey]).open(after, purpose), idp.secretClient.clientSecret, 'the new key alone opens it');
  t.same(
    await reencryptClientSecrets(new ConnectionRepo(broker.database.prisma), new SecretBox([newKey, oldKey])),
    { resealed: 0, unreadable: [] },
    'nothing left to do',
  );
  const foreign = await reencryptClientSecrets(
    new ConnectionRepo(broker.database.prisma),
    new SecretBox([randomBytes(32)]),
  );
  t.same(foreign.unreadable, [scenario.connectionId], 'secrets no key opens are reported, not destroyed');
});
