import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { registerAutoLoginTenant } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait.js';
import { installClock } from '../helpers/clock.js';

// Discovery and JWKS are cached with bounded lifetimes (1 s here). When they are due for a
// refresh and the IdP's metadata endpoints are briefly down, logins go on with the cached
// copies, and the log says so. The lifetimes pass on the process's clock, moved forward
// (helpers/clock.ts).

t.test('cache rule: stale discovery and keys are served while the IdP cannot be reached, and logged', async (t) => {
  let down = false;
  const rogue = await startRogueIdp(t, {
    flaky: {
      discoveryResponse: (res) => down && (res.writeHead(503).end(), true),
      jwks: (keys) => (down ? (res) => res.writeHead(503).end() : { keys: [keys.current.publicJwk] }),
    },
  });
  const clock = installClock(t);
  const lines: string[] = [];
  const broker = await startBroker(t, { discoveryTtlSeconds: 1, jwksMaxAgeSeconds: 1 }, { captureLogs: lines });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'flaky',
    issuer: rogue.issuer('flaky'),
    clientSecret: rogue.clientSecret,
  });

  t.ok((await tenant.login()).ticket, 'a first login caches discovery and keys');
  down = true;
  clock.advance(1200);
  const during = await tenant.login();
  t.ok(during.ticket, 'with discovery and JWKS down and both due for a refresh, the login still succeeds');
  // The discovery refresh runs beside the login; its warning comes when it gives up.
  const logged = (pattern: RegExp) => waitFor(() => pattern.test(lines.join('')));
  t.ok(
    await logged(/IdP discovery could not be refreshed; serving the cached copy/),
    'the discovery refresh failure is logged',
  );
  t.ok(await logged(/IdP keys could not be refreshed; verified with the cached copy/), 'the stale keys are logged');
  const discoveryFetches = rogue.hits.get('flaky/.well-known/openid-configuration');
  t.ok((discoveryFetches ?? 0) >= 2, 'the refresh was attempted');

  down = false;
  clock.advance(1200);
  t.ok((await tenant.login()).ticket, 'after the outage, fresh copies again');
});

t.test('cache rule: a token the cached keys reject is still refused during an outage', async (t) => {
  let down = false;
  const rogue = await startRogueIdp(t, {
    flaky: {
      idToken: async (claims, ctx) =>
        (await import('../helpers/rogue-idp.js')).rs256(claims, down ? ctx.keys.other : ctx.keys.current),
      jwks: (keys) => (down ? (res) => res.writeHead(503).end() : { keys: [keys.current.publicJwk] }),
    },
  });
  const clock = installClock(t);
  const broker = await startBroker(t, { jwksMaxAgeSeconds: 1, jwksCooldownSeconds: 0 });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'flaky2',
    issuer: rogue.issuer('flaky'),
    clientSecret: rogue.clientSecret,
  });
  t.ok((await tenant.login()).ticket);
  down = true;
  clock.advance(1200);
  t.equal((await tenant.login()).error, 'invalid_id_token', 'an unknown key is not trusted because the JWKS is down');
});
