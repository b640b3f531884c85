import t from 'tap';
import type { App } from '../../src/domain/apps/app.repo.js';
import type { Connection } from '../../src/domain/connections/connection.repo.js';
import { assertAppAllowed } from '../../src/domain/login/start/assert-app-allowed.js';
import { assertReturnToRegistered } from '../../src/domain/login/start/assert-return-to-registered.js';
import { findApp } from '../../src/domain/login/start/find-app.js';
import { matchInitiation } from '../../src/domain/login/start/match-initiation.js';
import { pickConnection } from '../../src/domain/login/start/pick-connection.js';
import { resolveTenant, tenantSlugFromHost } from '../../src/domain/login/start/resolve-tenant.js';
import type { Tenant } from '../../src/domain/tenants/tenant.repo.js';
import type { BrokerError } from '../../src/errors/broker-error.js';
import { codeOf } from '../helpers/error-code.js';

// The start pipeline's steps (src/domain/login/start/) without HTTP: each one's guarantee.

const at = new Date(0);
const tenant = (id: string, slug: string, domains: string[] = []): Tenant =>
  ({ id, slug, name: `Org ${slug}`, domains, restrictToDomains: false, createdAt: at, updatedAt: at }) as Tenant;
const acme = tenant('t1', 'acme', ['acme.example']);
const globex = tenant('t2', 'globex', ['globex.example']);
const app = (id: string, over: Partial<App> = {}): App => ({
  id,
  name: id,
  secretHash: '',
  returnUrls: ['https://app.example/cb'],
  allTenants: false,
  tenants: ['acme'],
  tenantIds: ['t1'],
  createdAt: at,
  updatedAt: at,
  ...over,
});
const connection = (id: string, tenantId: string, enabled = true) => ({ id, tenantId, enabled }) as Connection;

t.test('findApp: an unknown app id is unknown_app', async (t) => {
  const apps = { findById: async (id: string) => (id === 'a1' ? app('a1') : undefined) };
  t.equal((await findApp({ apps }, 'a1')).id, 'a1');
  await t.rejects(findApp({ apps }, 'nope'), { code: 'unknown_app' });
});

t.test('assertReturnToRegistered: exact match only', async (t) => {
  const registered = ['https://app.example/cb', 'https://app.example/cb?x=1'];
  t.equal(
    codeOf(() => assertReturnToRegistered(registered, 'https://app.example/cb')),
    null,
  );
  t.equal(
    codeOf(() => assertReturnToRegistered(registered, 'https://app.example/cb?x=1')),
    null,
  );
  for (const near of [
    'https://app.example/cb/',
    'https://APP.example/cb',
    'https://app.example/cb?x=2',
    'https://app.example/c%62',
    'https://app.example/cbx',
  ]) {
    t.equal(
      codeOf(() => assertReturnToRegistered(registered, near)),
      'invalid_return_to',
      near,
    );
  }
});

t.test('resolveTenant: connection > tenant > subdomain > login_hint, the first present decides', async (t) => {
  const deps = {
    tenants: {
      findById: async (id: string) => [acme, globex].find((x) => x.id === id),
      findBySlug: async (slug: string) => [acme, globex].find((x) => x.slug === slug),
      findByDomain: async (domain: string) => [acme, globex].find((x) => x.domains.includes(domain)),
    },
    connections: { findById: async (id: string) => (id === 'c2' ? connection('c2', 't2') : undefined) },
    tenantDomain: 'sso.example',
  };
  const all = { connection: 'c2', tenant: 'acme', host: 'acme.sso.example', loginHint: 'ada@acme.example' };
  const byConnection = await resolveTenant(deps, all);
  t.equal(byConnection.tenant.slug, 'globex', 'the connection wins over every other selector');
  t.equal(byConnection.connection?.id, 'c2');
  t.equal((await resolveTenant(deps, { ...all, connection: undefined, tenant: 'globex' })).tenant.slug, 'globex');
  t.equal(
    (await resolveTenant(deps, { host: 'globex.sso.example:8443', loginHint: 'ada@acme.example' })).tenant.slug,
    'globex',
  );
  t.equal((await resolveTenant(deps, { loginHint: 'ada@ACME.example' })).tenant.slug, 'acme');
  await t.rejects(
    resolveTenant(deps, { tenant: 'nope', loginHint: 'ada@acme.example' }),
    { code: 'unknown_tenant' },
    'no fallback',
  );
  await t.rejects(resolveTenant(deps, { connection: 'nope' }), { code: 'unknown_tenant' });
  await t.rejects(resolveTenant(deps, {}), { code: 'invalid_request' });
  t.equal(tenantSlugFromHost('a.b.sso.example', 'sso.example'), undefined, 'one label only');
  t.equal(tenantSlugFromHost('sso.example', 'sso.example'), undefined);
  t.equal(tenantSlugFromHost('acme.evilsso.example', 'sso.example'), undefined);
});

t.test('assertAppAllowed: all tenants, or this tenant listed; the page names the organisation', async (t) => {
  t.equal(
    codeOf(() => assertAppAllowed(app('a1'), acme)),
    null,
  );
  t.equal(
    codeOf(() => assertAppAllowed(app('a1', { allTenants: true, tenantIds: [] }), globex)),
    null,
  );
  try {
    assertAppAllowed(app('a1'), globex);
    t.fail('globex is not allowed');
  } catch (error) {
    t.equal((error as BrokerError).code, 'tenant_not_allowed');
    t.equal((error as BrokerError).organisation, 'Org globex');
  }
});

t.test('pickConnection: the selected one, else the default; disabled is no_connection', async (t) => {
  const deps = (fallback: Connection | undefined) => ({ connections: { findDefaultEnabled: async () => fallback } });
  t.equal((await pickConnection(deps(connection('d', 't1')), acme, connection('s', 't1'))).id, 's');
  t.equal((await pickConnection(deps(connection('d', 't1')), acme, undefined)).id, 'd');
  await t.rejects(pickConnection(deps(undefined), acme, undefined), {
    code: 'no_connection',
    organisation: 'Org acme',
  });
  await t.rejects(pickConnection(deps(connection('d', 't1')), acme, connection('s', 't1', false)), {
    code: 'no_connection',
  });
});

t.test(
  'matchInitiation: one connection and one app, the hint decides between tenants, ambiguity refused',
  async (t) => {
    const url = 'https://app.example/cb';
    const deps = (connections: Connection[], apps: App[]) => ({
      connections: { listEnabledByIssuer: async () => connections },
      apps: { listByReturnUrl: async () => apps },
      tenants: { findByDomain: async (domain: string) => [acme, globex].find((x) => x.domains.includes(domain)) },
    });
    const request = { issuer: 'https://idp.example', targetLinkUri: url, loginHint: undefined };
    const one = await matchInitiation(deps([connection('c1', 't1')], [app('a1')]), request);
    t.same([one.app.id, one.connection.id], ['a1', 'c1']);
    await t.rejects(matchInitiation(deps([], [app('a1')]), request), { code: 'unknown_tenant' });
    await t.rejects(matchInitiation(deps([connection('c1', 't1')], []), request), { code: 'invalid_return_to' });
    await t.rejects(matchInitiation(deps([connection('c2', 't2')], [app('a1')]), request), {
      code: 'tenant_not_allowed',
    });
    const shared = deps([connection('c1', 't1'), connection('c2', 't2')], [app('a1', { allTenants: true })]);
    await t.rejects(matchInitiation(shared, request), { code: 'invalid_request' }, 'two tenants share the issuer');
    const hinted = await matchInitiation(shared, { ...request, loginHint: 'ada@globex.example' });
    t.equal(hinted.connection.id, 'c2');
    await t.rejects(matchInitiation(shared, { ...request, loginHint: 'ada@other.example' }), {
      code: 'invalid_request',
    });
    const twoApps = deps([connection('c1', 't1')], [app('a1'), app('a2')]);
    await t.rejects(matchInitiation(twoApps, request), { code: 'invalid_request' }, 'two apps registered the URL');
  },
);
