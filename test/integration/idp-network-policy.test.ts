import { createServer, type Server } from 'node:http';
import t from 'tap';
import { boundedFetch } from '../../src/oidc/bounded-fetch.js';
import { IdpAddressRefused, IdpNetworkPolicy, type IdpLookup } from '../../src/oidc/network-policy.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';
import { registerAutoLoginTenant } from '../helpers/scenario.js';

// Contract, Configuration: IdP URLs are https on public addresses unless IDP_PRIVATE_NETWORKS
// allows more; http only on listed loopback addresses; link-local never. Checked when the
// broker connects, for every address a name resolves to; a refused IdP fails like an
// unreachable one (idp_error), and the validation report names the URL and the reason.
// Only loopback is ever contacted here: other addresses are answers of the injected resolver,
// refused before any connection.

/** A server that only counts the connections it gets: proof that nothing went to its address. */
async function bystander(t: { teardown(fn: () => unknown): void }, host: string, port = 0) {
  let connections = 0;
  const server: Server = createServer((_req, res) => res.writeHead(500).end());
  server.on('connection', (socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address() as { port: number };
  return { port: address.port, url: `http://${host}:${address.port}`, connections: () => connections };
}

type Report = { ok: boolean; checks: { id: string; ok: boolean; message: string }[] };
async function validate(broker: TestBroker, connectionId: string) {
  const report = (await broker.admin('POST', `/admin/connections/${connectionId}/validate`)).body as Report;
  return Object.fromEntries(report.checks.map((check) => [check.id, check]));
}

// Names resolve through this table (the broker's injected resolver); anything else is unknown.
const dns = new Map<string, string[]>();
const lookup: IdpLookup = async (hostname) => {
  const answer = dns.get(hostname);
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const elsewhere = await bystander(t, '127.0.0.2');
const behaviours: Record<string, Behaviour> = {
  good: {},
  'token-elsewhere': { discovery: (doc) => ({ ...doc, token_endpoint: `${elsewhere.url}/token` }) },
};
const rogue = await startRogueIdp(t, behaviours);
const lines: string[] = [];
// 127.0.0.1 only (not 127.0.0.2 or .3); 169.254/16 listed to show that listing it changes nothing.
const broker = await startBroker(
  t,
  { idpPrivateNetworks: ['127.0.0.1/32', '169.254.0.0/16'], idpTimeoutSeconds: 2 },
  { idpLookup: lookup, captureLogs: lines },
);

t.test(
  'network rule: without loopback in IDP_PRIVATE_NETWORKS an http://127.0.0.1 IdP is refused: idp_error, and the report names the URL and why',
  async (t) => {
    const strict = await startBroker(t, { idpPrivateNetworks: [] });
    const tenant = await registerAutoLoginTenant(strict, {
      slug: 'net-strict',
      issuer: rogue.issuer('good'),
      clientSecret: rogue.clientSecret,
    });
    const before = rogue.hits.get('good/.well-known/openid-configuration') ?? 0;
    t.equal((await tenant.login()).error, 'idp_error');
    const report = await validate(strict, tenant.connectionId);
    t.equal(report.discovery_reachable!.ok, false);
    t.equal(
      report.discovery_reachable!.message,
      `${rogue.issuer('good')}/.well-known/openid-configuration: http is accepted only on loopback addresses listed in IDP_PRIVATE_NETWORKS (127.0.0.1 is a loopback address not listed)`,
    );
    t.equal(rogue.hits.get('good/.well-known/openid-configuration') ?? 0, before, 'the IdP was never asked');
  },
);

t.test(
  'network rule: an allowed discovery document cannot send the broker to an unlisted address (token_endpoint on 127.0.0.2)',
  async (t) => {
    const tenant = await registerAutoLoginTenant(broker, {
      slug: 'net-token-elsewhere',
      issuer: rogue.issuer('token-elsewhere'),
      clientSecret: rogue.clientSecret,
    });
    t.equal((await tenant.login()).error, 'idp_error', 'refused like an unreachable IdP, not token_exchange_failed');
    t.equal(rogue.hits.get('token-elsewhere/authorize') ?? 0, 0, 'the learner was not sent to sign in for nothing');
    const report = await validate(broker, tenant.connectionId);
    t.equal(report.endpoints_present!.ok, false);
    t.match(
      report.endpoints_present!.message,
      `token_endpoint ${elsewhere.url}/token: http is accepted only on loopback addresses listed in IDP_PRIVATE_NETWORKS (127.0.0.2 is a loopback address not listed)`,
    );
    t.equal(report.discovery_reachable!.ok, true, 'the discovery document itself is fine');
    t.equal(elsewhere.connections(), 0, 'nothing reached 127.0.0.2');
  },
);

t.test('network rule: the check is made when connecting, also for an IP literal', async (t) => {
  const fetchPoliced = boundedFetch({ policy: new IdpNetworkPolicy({ privateNetworks: ['127.0.0.1/32'] }) });
  const refused = await fetchPoliced(`${elsewhere.url}/token`, { method: 'POST', body: 'code=x' }).catch(
    (error: unknown) => error,
  );
  t.type(refused, IdpAddressRefused);
  t.equal(
    (refused as Error).message,
    `${elsewhere.url}/token: http is accepted only on loopback addresses listed in IDP_PRIVATE_NETWORKS (127.0.0.2 is a loopback address not listed)`,
  );
  t.equal((await fetchPoliced(`${rogue.issuer('good')}/jwks`)).status, 200, 'while a listed address is reached');
  t.equal(elsewhere.connections(), 0, 'nothing reached 127.0.0.2');
});

t.test(
  'network rule: DNS rebinding: a name that later resolves to an unlisted address is refused at the next connection',
  async (t) => {
    const named = await startRogueIdp(t, { good: {} }, { host: 'rebind.localhost' });
    const rebound = await bystander(t, '127.0.0.3', named.port);
    dns.set('rebind.localhost', ['127.0.0.1']);
    const tenant = await registerAutoLoginTenant(broker, {
      slug: 'net-rebind',
      issuer: named.issuer('good'),
      clientSecret: named.clientSecret,
    });
    const first = await tenant.login();
    t.equal(first.error, null, 'while the name resolves to 127.0.0.1 (listed), logins work');
    t.ok(first.ticket);

    dns.set('rebind.localhost', ['127.0.0.3']);
    named.dropConnections();
    const second = await tenant.login();
    t.equal(
      second.error,
      'idp_error',
      'the cached discovery does not help: the token request connects anew and is refused',
    );
    t.equal(named.hits.get('good/token'), 1, 'only the first login reached the token endpoint');
    t.equal(rebound.connections(), 0, 'nothing reached 127.0.0.3');
    t.match(
      lines.join(''),
      /rebind\.localhost resolves to 127\.0\.0\.3, a loopback address not listed/,
      'the log says why',
    );
    const report = await validate(broker, tenant.connectionId);
    t.match(report.discovery_reachable!.message, /rebind\.localhost resolves to 127\.0\.0\.3/);
  },
);

t.test('network rule: link-local (cloud metadata) is never contacted, even when listed', async (t) => {
  const named = await startRogueIdp(t, { good: {} }, { host: 'metadata.localhost' });
  dns.set('metadata.localhost', ['169.254.169.254']);
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'net-metadata',
    issuer: named.issuer('good'),
    clientSecret: named.clientSecret,
  });
  t.equal((await tenant.login()).error, 'idp_error');
  const report = await validate(broker, tenant.connectionId);
  t.match(
    report.discovery_reachable!.message,
    'metadata.localhost resolves to 169.254.169.254, a link-local address (cloud metadata), never contacted',
  );

  // With a listed loopback address beside it, nothing is contacted either.
  dns.set('metadata.localhost', ['127.0.0.1', '169.254.169.254']);
  t.equal((await tenant.login()).error, 'idp_error');
  t.equal(named.hits.size, 0, 'the IdP on 127.0.0.1 was never asked');
});

t.test('network rule: every address a name resolves to must be allowed (127.0.0.1 and 10.0.0.1)', async (t) => {
  const named = await startRogueIdp(t, { good: {} }, { host: 'mixed.localhost' });
  dns.set('mixed.localhost', ['127.0.0.1', '10.0.0.1']);
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'net-mixed',
    issuer: named.issuer('good'),
    clientSecret: named.clientSecret,
  });
  t.equal((await tenant.login()).error, 'idp_error');
  t.equal(named.hits.size, 0, 'not even the allowed address was contacted');
  const report = await validate(broker, tenant.connectionId);
  t.match(
    report.discovery_reachable!.message,
    'http is accepted only on loopback addresses listed in IDP_PRIVATE_NETWORKS (mixed.localhost resolves to 10.0.0.1, a private address)',
  );
});

// The discovery rules are one module (idp-metadata-rules.ts): what the report flags, a login refuses.
t.test('discovery rules: the login path refuses exactly what the validation report flags', async (t) => {
  const broken: [string, Behaviour, string][] = [
    [
      'hs256-only',
      { discovery: (doc) => ({ ...doc, id_token_signing_alg_values_supported: ['HS256'] }) },
      'rs256_supported',
    ],
    [
      'basic-only',
      { discovery: (doc) => ({ ...doc, token_endpoint_auth_methods_supported: ['client_secret_basic'] }) },
      'auth_method_supported',
    ],
    [
      'auth-methods-absent',
      { discovery: ({ token_endpoint_auth_methods_supported: _, ...doc }) => doc },
      'auth_method_supported',
    ],
    [
      'implicit-only',
      { discovery: (doc) => ({ ...doc, response_types_supported: ['id_token'] }) },
      'code_flow_supported',
    ],
    ['plain-pkce', { discovery: (doc) => ({ ...doc, code_challenge_methods_supported: ['plain'] }) }, 'pkce_s256'],
  ];
  const idp = await startRogueIdp(t, Object.fromEntries(broken.map(([name, behaviour]) => [name, behaviour])));
  for (const [name, , check] of broken) {
    const tenant = await registerAutoLoginTenant(broker, {
      slug: `rules-${name}`,
      issuer: idp.issuer(name),
      clientSecret: idp.clientSecret,
    });
    const report = await validate(broker, tenant.connectionId);
    t.same(
      Object.values(report)
        .filter((c) => !c.ok)
        .map((c) => c.id),
      [check],
      `${name}: the report fails ${check}`,
    );
    t.equal((await tenant.login()).error, 'idp_error', `${name}: the login is refused`);
    t.equal(idp.hits.get(`${name}/authorize`) ?? 0, 0, `${name}: before the learner is sent to the IdP`);
    t.match(lines.join(''), `discovery rule ${check} failed`, `${name}: the log names the rule`);
  }
});

t.test('log rule: a token endpoint answering 403 with an empty body is logged with its HTTP status', async (t) => {
  const idp = await startRogueIdp(t, { 'token-403-empty': { token: (res) => (res.writeHead(403).end(), true) } });
  const tenant = await registerAutoLoginTenant(broker, {
    slug: 'token-403-empty',
    issuer: idp.issuer('token-403-empty'),
    clientSecret: idp.clientSecret,
  });
  t.equal((await tenant.login()).error, 'token_exchange_failed');
  const failure = lines.find(
    (line) => line.includes('"msg":"login failed"') && line.includes('OAUTH_RESPONSE_IS_NOT_JSON'),
  );
  t.ok(failure, 'the failure is logged');
  t.match(failure, /IdP answered HTTP 403, no content-type/, 'with the status, so a refusal is told from a broken IdP');
});
