import { randomBytes } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError, parseEnv } from '../../src/config/env.schema.js';

const key = () => randomBytes(32).toString('base64url');

t.test('defaults are the contract’s', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    databaseUrl: undefined,
    publicUrl: 'http://localhost:3000',
    callbackUrl: 'http://localhost:3000/api/sso/callback',
    secureCookies: false,
    host: '127.0.0.1',
    port: 3000,
    adminToken: undefined,
    consoleTenant: undefined,
    consoleAdmins: [],
    consoleIssuer: undefined,
    keysDir: './keys',
    tenantDomain: undefined,
    ticketTtlSeconds: 60,
    rateLimitPerMinute: 600,
    migrateOnStart: true,
    logLevel: 'info',
  });
  t.ok(Object.isFrozen(config));
});

t.test('the console’s SSO sign-in: a tenant slug and a list of emails or groups', async (t) => {
  const config = loadConfig({ CONSOLE_TENANT: 'ops', CONSOLE_ADMINS: ' ada@ops.example , group:broker-admins,' });
  t.equal(config.consoleTenant, 'ops');
  t.same(config.consoleAdmins, ['ada@ops.example', 'group:broker-admins']);
  t.throws(() => loadConfig({ CONSOLE_TENANT: 'Not A Slug' }), /CONSOLE_TENANT/);
});

t.test('CONSOLE_ISSUER: the one issuer console sign-ins may come from, kept exactly as written', async (t) => {
  for (const issuer of ['https://idp.ops.example/', 'https://idp.ops.example', 'https://login.example/tenant/v2.0']) {
    t.equal(loadConfig({ CONSOLE_TENANT: 'ops', CONSOLE_ISSUER: issuer }).consoleIssuer, issuer, issuer);
  }
  t.equal(loadConfig({ CONSOLE_TENANT: 'ops', CONSOLE_ISSUER: '' }).consoleIssuer, undefined, 'empty is unset');
  t.throws(() => loadConfig({ CONSOLE_TENANT: 'ops', CONSOLE_ISSUER: 'idp.ops.example' }), /CONSOLE_ISSUER: must be/);
  t.throws(() => loadConfig({ CONSOLE_TENANT: 'ops', CONSOLE_ISSUER: 'ftp://idp.ops.example' }), /CONSOLE_ISSUER/);
  t.throws(
    () => loadConfig({ CONSOLE_ISSUER: 'https://idp.ops.example' }),
    /CONSOLE_ISSUER: needs CONSOLE_TENANT/,
    'meaningless without the tenant',
  );
});

t.test('values are parsed and normalised', async (t) => {
  const k1 = key();
  const k2 = key();
  const config = loadConfig({
    DATABASE_URL: 'postgresql://u:p@db:5432/broker',
    PUBLIC_URL: 'https://sso.example.com/',
    PORT: '8080',
    ADMIN_TOKEN: 'x'.repeat(32),
    SECRET_KEY: `${k1}, ${k2}`,
    TENANT_DOMAIN: 'SSO.Example.com',
    TICKET_TTL_SECONDS: '30',
    RATE_LIMIT_PER_MINUTE: '0',
    MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
    EMPTY_IS_UNSET: '',
  });
  t.equal(config.publicUrl, 'https://sso.example.com', 'trailing slash removed');
  t.equal(config.callbackUrl, 'https://sso.example.com/api/sso/callback');
  t.equal(config.secureCookies, true);
  t.equal(config.port, 8080);
  t.equal(config.secretKeys?.length, 2, 'a comma-separated SECRET_KEY is a key ring');
  t.equal(config.tenantDomain, 'sso.example.com');
  t.equal(config.rateLimitPerMinute, 0);
  t.equal(config.migrateOnStart, false);
});

t.test('invalid values: one readable line per problem', async (t) => {
  try {
    parseEnv({
      DATABASE_URL: 'mysql://nope',
      PUBLIC_URL: 'not a url at all',
      PORT: 'eighty',
      ADMIN_TOKEN: 'short',
      SECRET_KEY: 'not-32-bytes',
      TICKET_TTL_SECONDS: '0',
      MIGRATE_ON_START: 'maybe',
      LOG_LEVEL: 'loud',
    });
    t.fail('should throw');
  } catch (error) {
    t.type(error, ConfigError);
    const problems = (error as ConfigError).problems;
    for (const name of [
      'DATABASE_URL',
      'PUBLIC_URL',
      'PORT',
      'ADMIN_TOKEN',
      'SECRET_KEY',
      'TICKET_TTL_SECONDS',
      'MIGRATE_ON_START',
      'LOG_LEVEL',
    ]) {
      t.ok(
        problems.some((p) => p.startsWith(`${name}:`)),
        `a line for ${name}`,
      );
    }
    t.notMatch((error as Error).message, /at .*\.ts:\d+/, 'no stack trace in the message');
  }
});

t.test('PUBLIC_URL must be an http(s) URL without query or fragment', async (t) => {
  for (const value of ['ftp://x', 'https://sso.example.com/?a=1', 'https://sso.example.com/#f', 'nope']) {
    t.throws(() => parseEnv({ PUBLIC_URL: value }), { message: /PUBLIC_URL: / }, value);
  }
});

t.test('SECRET_KEY is required with DATABASE_URL (no default for a secret)', async (t) => {
  t.throws(() => parseEnv({ DATABASE_URL: 'postgres://db/broker' }), {
    message: /SECRET_KEY: is required when DATABASE_URL is set/,
  });
  t.doesNotThrow(() => parseEnv({ DATABASE_URL: 'postgres://db/broker', SECRET_KEY: key() }));
});

t.test('TRUST_PROXY: off by default; true, a hop count, or addresses and CIDR ranges', async (t) => {
  t.equal(loadConfig({}).trustProxy, false);
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1']);
  t.throws(() => parseEnv({ TRUST_PROXY: 'the load balancer' }), { message: /TRUST_PROXY: / });
});

t.test(
  'IDP_PRIVATE_NETWORKS: loopback on the embedded database, none with DATABASE_URL, else the listed CIDRs',
  async (t) => {
    t.same(
      loadConfig({}).idpPrivateNetworks,
      ['127.0.0.0/8', '::1/128'],
      'npm start and the demo reach their local IdPs',
    );
    const production = { DATABASE_URL: 'postgres://db/broker', SECRET_KEY: key() };
    t.same(loadConfig(production).idpPrivateNetworks, [], 'production contacts public https IdPs only');
    t.same(loadConfig({ ...production, IDP_PRIVATE_NETWORKS: '10.20.0.0/16, fd12:3456::/48' }).idpPrivateNetworks, [
      '10.20.0.0/16',
      'fd12:3456::/48',
    ]);
    t.same(
      loadConfig({ IDP_PRIVATE_NETWORKS: '10.20.0.0/16' }).idpPrivateNetworks,
      ['10.20.0.0/16'],
      'a list replaces the development default',
    );
    for (const value of ['10.0.0.0', '10.0.0.0/33', 'intranet', '10.0.0.0/8,nope']) {
      t.throws(() => parseEnv({ IDP_PRIVATE_NETWORKS: value }), { message: /IDP_PRIVATE_NETWORKS: .*CIDR/ }, value);
    }
  },
);

t.test('WEBHOOK_PRIVATE_NETWORKS and DNS_SERVERS (contract v4)', async (t) => {
  t.same(loadConfig({}).webhookPrivateNetworks, ['127.0.0.0/8', '::1/128'], 'the demo app receives webhooks locally');
  const production = { DATABASE_URL: 'postgres://db/broker', SECRET_KEY: key() };
  t.same(loadConfig(production).webhookPrivateNetworks, []);
  t.same(loadConfig({ ...production, WEBHOOK_PRIVATE_NETWORKS: '10.30.0.0/16' }).webhookPrivateNetworks, [
    '10.30.0.0/16',
  ]);
  t.throws(() => parseEnv({ WEBHOOK_PRIVATE_NETWORKS: 'hooks' }), { message: /WEBHOOK_PRIVATE_NETWORKS: .*CIDR/ });
  t.same(loadConfig({}).dnsServers, [], 'the system’s resolvers');
  t.same(loadConfig({ DNS_SERVERS: '10.0.0.2, 1.1.1.1:53,[2001:db8::1]:5353,::1' }).dnsServers, [
    '10.0.0.2',
    '1.1.1.1:53',
    '[2001:db8::1]:5353',
    '::1',
  ]);
  for (const value of ['dns.example', '10.0.0.2:99999', '10.0.0.300', '1.1.1.1:53,resolver']) {
    t.throws(() => parseEnv({ DNS_SERVERS: value }), { message: /DNS_SERVERS: / }, value);
  }
});

t.test('HOST: loopback on the embedded database, every interface with DATABASE_URL, else as set', async (t) => {
  t.equal(loadConfig({}).host, '127.0.0.1', 'npm start with its generated admin token: this machine only');
  const production = { DATABASE_URL: 'postgres://db/broker', SECRET_KEY: key() };
  t.equal(loadConfig(production).host, '0.0.0.0', 'a real database: every interface, as before');
  t.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0', 'HOST set wins on the embedded database too');
  t.equal(loadConfig({ ...production, HOST: '10.1.2.3' }).host, '10.1.2.3');
  t.equal(loadConfig({ HOST: '' }).host, '127.0.0.1', 'empty is unset');
});

t.test('METRICS_TOKEN: unset leaves /metrics open; when set, at least 32 characters', async (t) => {
  t.equal(loadConfig({}).metricsToken, undefined);
  t.equal(loadConfig({ METRICS_TOKEN: 'm'.repeat(32) }).metricsToken, 'm'.repeat(32));
  t.throws(() => parseEnv({ METRICS_TOKEN: 'short' }), { message: /METRICS_TOKEN: must be at least 32 characters/ });
});
