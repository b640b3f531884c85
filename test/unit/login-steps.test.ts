import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { assertAuthorizationCode } from '../../src/domain/login/callback/assert-authorization-code.js';
import { loadConnection } from '../../src/domain/login/callback/load-connection.js';
import { assertDomainAllowed } from '../../src/domain/login/domain-restriction.js';
import { hostnameOf, isWithinDomain } from '../../src/domain/login/host-names.js';
import {
  openTransaction,
  returnToHash,
  sealTransaction,
  settingsFingerprint,
  type LoginTransaction,
} from '../../src/domain/login/login-transaction.js';
import { stepRunner } from '../../src/domain/login/pipeline.js';
import { TransactionCookies } from '../../src/domain/login/transaction-cookies.js';
import type { BrokerError } from '../../src/errors/broker-error.js';
import { isTenantAllowed, tenantOfIssuer } from '../../src/oidc/entra-tenant-issuer.js';
import { codeOf } from '../helpers/error-code.js';

// The login's steps without HTTP: each one's guarantee, on its own.

t.test(
  'assertAuthorizationCode: a code passes; access_denied is kept; other IdP errors become idp_error',
  async (t) => {
    t.equal(
      codeOf(() => assertAuthorizationCode({ code: 'c' })),
      null,
    );
    t.equal(
      codeOf(() => assertAuthorizationCode({ error: 'access_denied' })),
      'access_denied',
    );
    t.equal(
      codeOf(() => assertAuthorizationCode({ error: 'server_error', code: 'c' })),
      'idp_error',
      'an error wins over a code',
    );
    t.equal(
      codeOf(() => assertAuthorizationCode({})),
      'idp_error',
    );
    t.equal(
      codeOf(() => assertAuthorizationCode({ code: ['a', 'b'] })),
      'idp_error',
      'one code, not several',
    );
    try {
      assertAuthorizationCode({ error: '<script>' });
    } catch (error) {
      t.notMatch((error as BrokerError).description, '<script>', 'IdP text never reaches the learner');
    }
  },
);

t.test('loadConnection: a removed or disabled connection finishes nothing', async (t) => {
  const tenant = {
    id: 't1',
    slug: 'acme',
    name: 'Acme',
    domains: [],
    verifiedDomains: [],
    restrictToDomains: false,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  const idpSettings = { issuer: 'https://idp.example', discoveryUrl: null, clientId: 'client' };
  const settings = settingsFingerprint(idpSettings);
  const tx = { connectionId: 'c1', settings, purpose: { kind: 'app' } } as LoginTransaction;
  const connection = (more: object) => ({ id: 'c1', tenantId: 't1', enabled: true, ...idpSettings, ...more });
  const deps = (found: object | undefined) => ({
    connections: { findById: async () => found as never },
    tenants: { findById: async () => tenant },
    versions: { asConnection: async () => connection({ testedVersion: 2 }) as never },
  });
  t.same((await loadConnection(deps(connection({})), tx)).tenant, tenant);
  await t.rejects(loadConnection(deps(connection({ enabled: false })), tx), { code: 'idp_error' });
  await t.rejects(loadConnection(deps(undefined), tx), { code: 'idp_error' });
  // A test login of a version finishes with that version's settings, whatever the active ones are.
  const test = { connectionId: 'c1', settings, purpose: { kind: 'test', version: 2 } } as LoginTransaction;
  t.equal((await loadConnection(deps(undefined), test)).connection.testedVersion, 2);
  // Settings that name another IdP or client than the login was started with finish nothing.
  for (const moved of [
    { issuer: 'https://evil.example' },
    { discoveryUrl: 'https://idp.example/d' },
    { clientId: 'x' },
  ]) {
    await t.rejects(loadConnection(deps(connection(moved)), tx), { code: 'login_expired' }, JSON.stringify(moved));
  }
});

t.test('assertDomainAllowed: verified email of a verified tenant domain, and hd when present', async (t) => {
  const tenant = { restrictToDomains: true, verifiedDomains: ['acme.example'] };
  const identity = (email: string | undefined, emailVerified: boolean | null) => ({
    subject: 's',
    login: email ?? 'user',
    emailVerified,
    groups: [],
    ...(email && { email }),
  });
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@acme.example', true), {})),
    null,
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@acme.example', null), {})),
    'domain_not_allowed',
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@acme.example', false), {})),
    'domain_not_allowed',
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity(undefined, null), {})),
    'domain_not_allowed',
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@evil.example', true), {})),
    'domain_not_allowed',
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@acme.example', true), { hd: 'ACME.example' })),
    null,
    'hd compared without case',
  );
  t.equal(
    codeOf(() => assertDomainAllowed(tenant, identity('ada@acme.example', true), { hd: 'evil.example' })),
    'domain_not_allowed',
  );
  t.equal(
    codeOf(() => assertDomainAllowed({ ...tenant, restrictToDomains: false }, identity(undefined, null), {})),
    null,
  );
});

t.test('the login transaction: sealed small, bound to its state, typed by purpose', async (t) => {
  const box = new SecretBox([randomBytes(32)]);
  const tx: LoginTransaction = {
    state: 's'.repeat(43),
    nonce: 'n'.repeat(43),
    codeVerifier: 'v'.repeat(43),
    connectionId: '4e3e2326-ed80-4442-955a-2723302b2fbc',
    settings: settingsFingerprint({ issuer: 'https://idp.example', discoveryUrl: null, clientId: 'client' }),
    createdAt: 1_764_000_000_000,
    purpose: {
      kind: 'app',
      appId: 'a6a3c3c8-5d5c-4e44-9b1f-0f3d2e1c0b0a',
      returnToHash: returnToHash('https://app.example/cb'),
      appState: 'x',
    },
  };
  const sealed = sealTransaction(box, tx);
  t.ok(sealed.length < 450, `${sealed.length} bytes`);
  t.same(openTransaction(box, tx.state, sealed), tx);
  t.equal(openTransaction(box, 't'.repeat(43), sealed), undefined, 'not for another state');
  t.same(openTransaction(box, tx.state, sealTransaction(box, { ...tx, purpose: { kind: 'test' } }))?.purpose, {
    kind: 'test',
  });
});

t.test(
  'transaction cookies: at most five pending, the oldest dropped; __Host- only without a domain on https',
  async (t) => {
    const box = new SecretBox([randomBytes(32)]);
    const cookies = new TransactionCookies({ secretBox: box, secure: true, domain: undefined, maxAgeSeconds: 660 });
    const tx = (i: number): LoginTransaction => ({
      state: `state-${i}`,
      nonce: 'n',
      codeVerifier: 'v',
      connectionId: 'c',
      settings: 'f',
      createdAt: 1000 + i,
      purpose: { kind: 'test' },
    });
    const present: Record<string, string> = {};
    for (let i = 0; i < 5; i++) present[`__Host-sso_tx_state-${i}`] = sealTransaction(box, tx(i));
    present['__Host-sso_tx_garbage'] = 'v1.00000000.AAAA';
    present['other_cookie'] = 'kept';
    const set = cookies.forNewLogin(tx(9), 'sso.example.com', present);
    t.same(
      set
        .filter((c) => c.maxAgeSeconds === 0)
        .map((c) => c.name)
        .sort(),
      ['__Host-sso_tx_garbage', '__Host-sso_tx_state-0'],
      'the oldest and the unreadable are dropped, nothing else',
    );
    t.equal(set.at(-1)!.name, '__Host-sso_tx_state-9');
    t.equal(cookies.find('state-3', 'sso.example.com', present)?.createdAt, 1003);
    t.equal(
      cookies.find('state-3', 'sso.example.com', { 'sso_tx_state-3': present['__Host-sso_tx_state-3']! }),
      undefined,
      'a plain name never stands in for __Host-',
    );

    const shared = new TransactionCookies({
      secretBox: box,
      secure: true,
      domain: 'sso.example.com',
      maxAgeSeconds: 660,
    });
    t.match(shared.forNewLogin(tx(1), 'acme.sso.example.com:443', {}).at(-1), {
      name: 'sso_tx_state-1',
      domain: 'sso.example.com',
    });
    t.notOk(shared.forNewLogin(tx(1), 'elsewhere.example', {}).at(-1)!.domain, 'host-only outside TENANT_DOMAIN');
  },
);

t.test('host names: ports dropped, case folded, IPv6 literals kept whole', async (t) => {
  t.equal(hostnameOf('ACME.sso.example.com:8443'), 'acme.sso.example.com');
  t.equal(hostnameOf('[::1]:3000'), '[::1]');
  t.ok(isWithinDomain('acme.sso.example.com', 'sso.example.com'));
  t.ok(isWithinDomain('sso.example.com', 'sso.example.com'));
  t.notOk(isWithinDomain('evilsso.example.com', 'sso.example.com'), 'a suffix is not a subdomain');
});

t.test('Entra {tenantid}: one tenant id per issuer, pinned to the allowed ones', async (t) => {
  const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';
  const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  t.equal(tenantOfIssuer(template, `https://login.microsoftonline.com/${tid.toUpperCase()}/v2.0`), tid);
  t.equal(
    tenantOfIssuer(template, 'https://login.microsoftonline.com/{tenantid}/v2.0'),
    undefined,
    'the unfilled template',
  );
  t.equal(tenantOfIssuer(template, `https://login.microsoftonline.com/${tid}/v2.0/extra`), undefined);
  t.equal(
    tenantOfIssuer('https://x/{tenantid}/a/{tenantid}', `https://x/${tid}/a/${tid}`),
    tid,
    'every placeholder the same tenant',
  );
  t.equal(
    tenantOfIssuer('https://x/{tenantid}/a/{tenantid}', `https://x/${tid}/a/0d2f3c4b-1111-4a2b-9c3d-5e6f7a8b9c0d`),
    undefined,
  );
  t.ok(isTenantAllowed(['*'], tid));
  t.ok(isTenantAllowed([tid.toUpperCase()], tid));
  t.notOk(isTenantAllowed(['0d2f3c4b-1111-4a2b-9c3d-5e6f7a8b9c0d'], tid));
});

t.test('the step runner traces each step once, with its reason on failure, and only when asked', async (t) => {
  const heard: unknown[] = [];
  const step = stepRunner((s) => heard.push(s));
  t.equal(
    await step(
      'connection',
      () => 42,
      (n) => `got ${n}`,
    ),
    42,
  );
  await t.rejects(
    step(
      'discovery',
      () => Promise.reject(new Error('boom')),
      () => 'never',
    ),
  );
  t.same(heard, [
    { id: 'connection', ok: true, message: 'got 42' },
    { id: 'discovery', ok: false, message: 'Error: boom' },
  ]);
  let described = false;
  await stepRunner(undefined)(
    'claims',
    () => 1,
    () => ((described = true), ''),
  );
  t.notOk(described, 'no description built without a trace');
});
