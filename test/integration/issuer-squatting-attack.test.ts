import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, signIn } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { ADA, redeem, registerTenant } from '../helpers/scenario.js';

// Account takeover by issuer squatting, played end to end. Apps key their users on
// (issuer, subject). A hostile tenant creates a connection that claims the victim IdP's issuer
// but takes its metadata — and so its signing keys — from the attacker's own host, whose
// discovery document repeats the victim's issuer. Its ID tokens then carry the victim issuer
// and any subject the attacker likes: the redeem answer is indistinguishable from the victim's.
// Contract v2: a connection's discoveryUrl must be on its issuer's origin.

const broker = await startBroker(t);
const victimIdp = await startIdp(t, {
  redirectUri: broker.config.callbackUrl,
  brokerJwks: broker.keys.jwks(),
  accounts: [ADA],
});
const rogue = await startRogueIdp(t, {
  // The attacker's IdP: claims to be the victim IdP, signs with its own keys.
  squat: {
    discovery: (doc) => ({ ...doc, issuer: victimIdp.issuer }),
    claims: (claims) => ({ ...claims, iss: victimIdp.issuer, sub: ADA.sub, email: ADA.claims.email }),
  },
  own: {},
});
const squatDiscovery = `${rogue.issuer('squat')}/.well-known/openid-configuration`;

t.test(
  'issuer squatting rule: a connection cannot claim another IdP’s issuer with metadata from elsewhere',
  async (t) => {
    // The victim signs in through its genuine connection.
    const victim = await registerTenant(broker, victimIdp, { method: 'client_secret_post' });
    const genuine = await signIn(new TestBrowser(), victim.loginUrl(), ADA.claims.email, victim.returnTo);
    const real = await redeem(broker, victim.app, genuine.searchParams.get('ticket'));
    t.match(real.body, { issuer: victimIdp.issuer, subject: ADA.sub });

    // The attacker tries to register the squatting connection for its own tenant.
    await broker.admin('POST', '/admin/tenants', { slug: 'squatter', name: 'Squatter' });
    const squat = {
      issuer: victimIdp.issuer,
      discoveryUrl: squatDiscovery,
      clientId: 'rogue-client',
      clientSecret: rogue.clientSecret,
      tokenEndpointAuthMethod: 'client_secret_post',
    };
    const created = await broker.admin('POST', '/admin/tenants/squatter/connections', squat);
    t.equal(created.status, 400, 'refused on create');
    t.match(created.body, {
      error: 'invalid_request',
      details: [{ path: 'discoveryUrl', message: /issuer's origin/ }],
    });

    // Nor through an update of an honest connection whose discovery URL is on the attacker's host
    // (moving both fields, or only the issuer).
    const honest = await broker.admin('POST', '/admin/tenants/squatter/connections', {
      ...squat,
      issuer: rogue.issuer('own'),
      discoveryUrl: `${rogue.issuer('own')}/.well-known/openid-configuration`,
    });
    t.equal(honest.status, 201);
    const patches = [{ issuer: victimIdp.issuer, discoveryUrl: squatDiscovery }, { issuer: victimIdp.issuer }];
    for (const patch of patches) {
      const patched = await broker.admin('PATCH', `/admin/connections/${honest.body.id}`, patch);
      t.equal(patched.status, 400, `refused on update: ${Object.keys(patch).join(', ')}`);
    }
    // Same host, other port; same port, other host name; other scheme: all other origins.
    const { port } = new URL(victimIdp.issuer);
    for (const discoveryUrl of [
      `http://localhost:${Number(port) + 1}/.well-known/openid-configuration`,
      `http://127.0.0.1:${port}/.well-known/openid-configuration`,
      `https://localhost:${port}/.well-known/openid-configuration`,
    ]) {
      const other = await broker.admin('POST', '/admin/tenants/squatter/connections', { ...squat, discoveryUrl });
      t.equal(other.status, 400, discoveryUrl);
    }
    // A discovery URL on the issuer's own origin (a custom path) is fine.
    const samePlace = await broker.admin('POST', '/admin/tenants/squatter/connections', {
      ...squat,
      issuer: rogue.issuer('own'),
      discoveryUrl: `${rogue.base}/own/.well-known/openid-configuration`,
    });
    t.equal(samePlace.status, 201);

    // A connection saved before the rule (here: written straight to the database) is refused at
    // login and flagged by the report, with the same reason.
    await broker.database.pool.query(
      `UPDATE connections SET issuer = $1, discovery_url = $2, updated_at = now() WHERE id = $3`,
      [victimIdp.issuer, squatDiscovery, honest.body.id],
    );
    const returnTo = 'https://app.example.test/squatter';
    const squatApp = (
      await broker.admin('POST', '/admin/apps', { name: 'Squat', returnUrls: [returnTo], tenants: ['squatter'] })
    ).body;
    const legacy = await new TestBrowser().follow(
      `${broker.url}/api/sso/login?${new URLSearchParams({ app: squatApp.id, return_to: returnTo, connection: honest.body.id })}`,
      (u) => u.startsWith(returnTo),
    );
    t.equal(
      legacy.url && new URL(legacy.url).searchParams.get('error'),
      'idp_error',
      'a legacy squatting connection cannot log anyone in',
    );
    t.equal(rogue.hits.get('squat/.well-known/openid-configuration'), undefined, 'its metadata is not even fetched');
    const report = (await broker.admin('POST', `/admin/connections/${honest.body.id}/validate`)).body;
    t.match(
      report.checks.find((c: { id: string }) => c.id === 'discovery_reachable'),
      { ok: false, message: /issuer's origin/ },
    );

    // The rest of the attack, had the connection been accepted: a login through it mints Ada.
    if (created.status === 201) {
      const result = await new TestBrowser().follow(
        `${broker.url}/api/sso/login?${new URLSearchParams({ app: squatApp.id, return_to: returnTo, connection: created.body.id })}`,
        (u) => u.startsWith(returnTo),
      );
      const ticket = result.url && new URL(result.url).searchParams.get('ticket');
      const forged = ticket ? await redeem(broker, squatApp, ticket) : undefined;
      if (forged?.body.issuer === victimIdp.issuer && forged.body.subject === ADA.sub)
        t.fail('account takeover: the squatting tenant minted the victim’s identity');
    }
  },
);
