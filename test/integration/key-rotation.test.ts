import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { registerAutoLoginTenant } from '../helpers/scenario.js';
import { rs256, startRogueIdp, type RogueKeys } from '../helpers/rogue-idp.js';
import { installClock } from '../helpers/clock.js';

// Key rotation at the IdP: a token signed with a key the broker has not seen triggers one JWKS
// refetch, at most once per cooldown (here 1 s), and then verifies. The cooldown passes on the
// process's clock, moved forward (helpers/clock.ts).

t.test('rotation rule: an unknown kid refetches the JWKS once, rate-limited, then succeeds', async (t) => {
  let signer: keyof RogueKeys = 'other';
  let published: (keyof RogueKeys)[] = ['other'];
  const rogue = await startRogueIdp(t, {
    rotating: {
      idToken: (claims, ctx) => rs256(claims, ctx.keys[signer]),
      jwks: (keys) => ({ keys: published.map((name) => keys[name].publicJwk) }),
    },
  });
  const clock = installClock(t);
  const broker = await startBroker(t, { jwksCooldownSeconds: 1 });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'rotating',
    issuer: rogue.issuer('rotating'),
    clientSecret: rogue.clientSecret,
  });
  const login = async () => {
    const { ticket, error } = await tenant.login();
    return ticket ? 'ticket' : error;
  };
  const jwksFetches = () => rogue.hits.get('rotating/jwks') ?? 0;

  t.equal(await login(), 'ticket', 'before rotation');
  t.equal(jwksFetches(), 1);

  signer = 'current';
  published = ['other', 'current'];
  t.equal(await login(), 'invalid_id_token', 'right after a fetch the unknown kid may not refetch (cooldown)');
  t.equal(jwksFetches(), 1, 'no refetch within the cooldown');

  clock.advance(1100);
  t.equal(await login(), 'ticket', 'after the cooldown: one refetch finds the new key');
  t.equal(jwksFetches(), 2, 'exactly one refetch');
  t.equal(await login(), 'ticket');
  t.equal(jwksFetches(), 2, 'then served from the cache');

  signer = 'current';
  published = ['current'];
  clock.advance(1100);
  t.equal(await login(), 'ticket', 'a retired key leaving the JWKS changes nothing for tokens signed with the new one');
});
