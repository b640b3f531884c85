import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadBrokerKeys, type BrokerKeys } from '../../src/config/broker-keys.js';
import { writeBrokerKey } from '../../src/config/generate-broker-key.js';
import { testRsaKey } from './test-keys.js';
import type { Config } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import type { IdpLookup } from '../../src/oidc/network-policy.js';
import { createLogger } from '../../src/observability/logger.js';
import type { SignInCode } from '../../src/http/console/console-session.js';
import { testDatabaseUrl } from './db.js';
import { freePort } from '../../src/config/local.js';

export interface TestBroker {
  url: string;
  config: Config & { secretKeys: Buffer[] };
  app: FastifyInstance;
  keys: BrokerKeys;
  database: Database;
  adminToken: string;
  /** Calls the admin API with the bearer token; returns status and parsed JSON. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

interface TestLike {
  teardown(fn: () => unknown): void;
}

/** A broker listening on 127.0.0.1 with a fresh database and a fresh RS256 key (`test-key-1`, with a certificate) unless `prepareKeys` fills KEYS_DIR. */
export async function startBroker(
  t: TestLike,
  /** Config overrides; also the SECRET_KEYs (to restart on the same database) and a start-up sign-in code. */
  overrides: Partial<Config & { secretKeys: Buffer[]; consoleSignInCode: SignInCode }> = {},
  options: {
    captureLogs?: string[];
    databaseUrl?: string;
    prepareKeys?: (keysDir: string) => Promise<void>;
    publicHost?: string;
    idpLookup?: IdpLookup;
    idpInterceptors?: AppDeps['idpInterceptors'];
    webhookQueue?: AppDeps['webhookQueue'];
  } = {},
): Promise<TestBroker> {
  const databaseUrl = options.databaseUrl ?? (await testDatabaseUrl(t));
  const keysDir = await mkdtemp(join(tmpdir(), 'broker-test-keys-'));
  t.teardown(() => rm(keysDir, { recursive: true, force: true }));
  if (options.prepareKeys) await options.prepareKeys(keysDir);
  else await writeBrokerKey(keysDir, await testRsaKey(), { kid: 'test-key-1' });
  const keys = await loadBrokerKeys(keysDir, overrides.signingKeyId);
  const port = await freePort();
  // The broker listens on 127.0.0.1; PUBLIC_URL may name it otherwise (localhost, for *.localhost tenants).
  const publicUrl = `http://${options.publicHost ?? '127.0.0.1'}:${port}`;
  const adminToken = randomBytes(24).toString('base64url');
  const config: Config & { secretKeys: Buffer[] } = {
    databaseUrl,
    publicUrl,
    callbackUrl: `${publicUrl}/api/sso/callback`,
    secureCookies: false,
    host: '127.0.0.1',
    port,
    adminToken,
    consoleTenant: undefined,
    consoleAdmins: [],
    consoleIssuer: undefined,
    secretKeys: [randomBytes(32)],
    keysDir,
    signingKeyId: undefined,
    tenantDomain: undefined,
    trustProxy: false,
    ticketTtlSeconds: 60,
    rateLimitPerMinute: 0,
    migrateOnStart: false,
    logLevel: 'silent',
    transactionTtlSeconds: 600,
    idpTimeoutSeconds: 5,
    clockToleranceSeconds: 60,
    jwksCooldownSeconds: 30,
    auditRetentionDays: 30,
    configCacheTtlSeconds: 30,
    discoveryTtlSeconds: 3600,
    jwksMaxAgeSeconds: 600,
    // The test IdPs run on this machine: loopback, http allowed.
    idpPrivateNetworks: ['127.0.0.0/8', '::1/128'],
    // The test apps' webhook endpoints too.
    webhookPrivateNetworks: ['127.0.0.0/8', '::1/128'],
    // No real DNS here: tests that verify domains start their own server on loopback.
    dnsServers: ['127.0.0.1:1'],
    metricsToken: undefined,
    ...overrides,
  };
  const database = openDatabase(databaseUrl, { max: 5 });
  const capture = options.captureLogs;
  const logger = capture
    ? createLogger('trace', { write: (line: string) => void capture.push(line) })
    : createLogger((process.env.TEST_LOG_LEVEL as Config['logLevel']) ?? 'silent');
  const app = await buildApp(config, {
    database,
    keys,
    logger,
    ...(options.idpLookup && { idpLookup: options.idpLookup }),
    ...(options.idpInterceptors && { idpInterceptors: options.idpInterceptors }),
    ...(options.webhookQueue && { webhookQueue: options.webhookQueue }),
  });
  await app.listen({ host: '127.0.0.1', port });
  t.teardown(async () => {
    await app.close();
    await database.close();
  });
  return {
    url: publicUrl,
    config,
    app,
    keys,
    database,
    adminToken,
    async admin(method, path, body) {
      const response = await fetch(`${publicUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}
