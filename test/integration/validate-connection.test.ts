import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { startRogueIdp, type Behaviour } from '../helpers/rogue-idp.js';

// Contract: POST /admin/connections/:id/validate — the discovery report, one check per line.

const behaviours: Record<string, Behaviour> = {
  good: {},
  'wrong-issuer': { discovery: (doc) => ({ ...doc, issuer: `${doc.issuer}/` }) },
  'no-token-endpoint': { discovery: ({ token_endpoint: _, ...doc }) => doc },
  'http-endpoint': { discovery: (doc) => ({ ...doc, authorization_endpoint: 'http://idp.example.com/authorize' }) },
  'jwks-broken': { jwks: () => (res) => res.writeHead(500).end() },
  'jwks-ec-only': { jwks: () => ({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }) },
  'hs256-only': { discovery: (doc) => ({ ...doc, id_token_signing_alg_values_supported: ['HS256'] }) },
  'implicit-only': { discovery: (doc) => ({ ...doc, response_types_supported: ['id_token'] }) },
  'plain-pkce': { discovery: (doc) => ({ ...doc, code_challenge_methods_supported: ['plain'] }) },
  'basic-only': { discovery: (doc) => ({ ...doc, token_endpoint_auth_methods_supported: ['client_secret_basic'] }) },
};
const rogue = await startRogueIdp(t, behaviours);
const broker = await startBroker(t, { idpTimeoutSeconds: 2 });
await broker.admin('POST', '/admin/tenants', { slug: 'validate', name: 'Validate' });

async function report(name: string, issuer = rogue.issuer(name), extra: Record<string, unknown> = {}) {
  const created = await broker.admin('POST', '/admin/tenants/validate/connections', {
    issuer,
    clientId: 'c',
    clientSecret: 's',
    tokenEndpointAuthMethod: 'client_secret_post',
    ...extra,
  });
  const answer = await broker.admin('POST', `/admin/connections/${created.body.id}/validate`);
  t.equal(answer.status, 200);
  const byId = Object.fromEntries(
    (answer.body.checks as { id: string; ok: boolean; message: string }[]).map((c) => [c.id, c]),
  );
  return {
    ok: answer.body.ok as boolean,
    byId,
    failed: answer.body.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { id: string }) => c.id),
  };
}

t.test('a well-configured IdP passes every check', async (t) => {
  const r = await report('good');
  t.equal(r.ok, true);
  t.same(Object.keys(r.byId).sort(), [
    'auth_method_supported',
    'code_flow_supported',
    'discovery_reachable',
    'endpoints_present',
    'issuer_match',
    'jwks_reachable',
    'pkce_s256',
    'rs256_supported',
  ]);
});

t.test(
  'discovery rule: an issuer that differs (even by a slash) fails issuer_match and says what differed',
  async (t) => {
    const r = await report('wrong-issuer');
    t.equal(r.ok, false);
    t.same(r.failed, ['issuer_match']);
    t.match(r.byId.issuer_match!.message, /trailing slash/);
    t.match(r.byId.issuer_match!.message, rogue.issuer('wrong-issuer'));
  },
);

t.test('each broken handoff fails exactly its check', async (t) => {
  const cases: [string, string[]][] = [
    ['no-token-endpoint', ['endpoints_present']],
    ['http-endpoint', ['endpoints_present']],
    ['jwks-broken', ['jwks_reachable']],
    ['jwks-ec-only', ['jwks_reachable']],
    ['hs256-only', ['rs256_supported']],
    ['implicit-only', ['code_flow_supported']],
    ['plain-pkce', ['pkce_s256']],
    ['basic-only', ['auth_method_supported']],
  ];
  for (const [name, failed] of cases) {
    const r = await report(name);
    t.equal(r.ok, false, name);
    t.same(r.failed, failed, `${name}: ${failed.join(', ')}`);
  }
});

t.test('an unreachable IdP fails discovery and everything that depends on it, with reasons', async (t) => {
  const r = await report('unreachable', 'http://127.0.0.1:9');
  t.equal(r.ok, false);
  t.equal(r.byId.discovery_reachable!.ok, false);
  t.equal(r.byId.issuer_match!.message, 'no discovery document');
  t.equal((await broker.admin('POST', '/admin/connections/nope/validate')).status, 404);
});
