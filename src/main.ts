import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { KeysError, loadBrokerKeys } from './config/broker-keys.js';
import { packageRoot } from './config/local.js';
import { ConfigError, DEVELOPMENT_HOST, loadConfig, type Config } from './config/config.js';
import { openDatabase } from './db/database.js';
import type { EmbeddedCluster } from './db/embedded.js';
import { MigrationError, migrate } from './db/migrate.js';
import { SIGN_IN_CODE_TTL_MS, type SignInCode } from './http/console/console-session.js';
import { bufferedStdout, createLogger } from './observability/logger.js';

const MIGRATIONS_DIR = resolve(packageRoot(), 'prisma/migrations');
const DATA_DIR = resolve(process.cwd(), '.data');
/** A broker key's certificate this close to expiry is logged at start-up. */
const CERTIFICATE_WARNING_DAYS = 30;

/**
 * On the embedded database only: a generated secret kept beside it under ./.data (SECRET_KEY,
 * ADMIN_TOKEN), 32 random bytes as base64url, made once and read back on every start.
 */
async function embeddedSecret(name: string, variable: string, log: Logger): Promise<string> {
  const file = resolve(DATA_DIR, name);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  log.warn({ file }, `${variable} unset: generated one for the embedded database (development only)`);
  return secret;
}

async function main() {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logOutput = bufferedStdout();
  const logger = createLogger(config.logLevel, logOutput);

  let embedded: EmbeddedCluster | undefined;
  let databaseUrl = config.databaseUrl;
  let secretKeys = config.secretKeys;
  let consoleSignInCode: SignInCode | undefined;
  if (databaseUrl === undefined) {
    // Loaded only here: production (DATABASE_URL set) never loads the embedded database.
    const { startEmbeddedPostgres } = await import('./db/embedded.js');
    embedded = await startEmbeddedPostgres({
      dataDir: DATA_DIR,
      persistent: true,
      onLog: (line) => logger.debug({ postgres: line }),
    });
    databaseUrl = embedded.url;
    logger.warn(
      { dataDir: DATA_DIR },
      'DATABASE_URL unset: running on an embedded PostgreSQL under ./.data (development only)',
    );
    secretKeys ??= [Buffer.from(await embeddedSecret('secret-key', 'SECRET_KEY', logger), 'base64url')];
    if (config.adminToken === undefined) {
      config = { ...config, adminToken: await embeddedSecret('admin-token', 'ADMIN_TOKEN', logger) };
      // One click into the console for a newcomer: a sign-in link that works once, for this
      // process only and for SIGN_IN_CODE_TTL_MS (the admin token itself stays in its file): a
      // log line read or kept later opens nothing.
      consoleSignInCode = {
        code: randomBytes(24).toString('base64url'),
        expiresAt: Date.now() + SIGN_IN_CODE_TTL_MS,
      };
    }
  }
  if (secretKeys === undefined) throw new Error('unreachable: SECRET_KEY is required with DATABASE_URL');

  const keys = await loadBrokerKeys(resolve(config.keysDir), config.signingKeyId);
  if (keys.activeKid === undefined) {
    logger.warn(
      { keysDir: config.keysDir },
      'no broker keys: private_key_jwt connections are unavailable (npm run keys:generate)',
    );
  }
  for (const key of keys.keys.values()) {
    const notAfter = key.certificateNotAfter;
    if (notAfter && Date.parse(notAfter) - Date.now() < CERTIFICATE_WARNING_DAYS * 86_400_000) {
      logger.warn(
        { kid: key.kid, notAfter },
        'the certificate of a broker key expires soon or has expired: IdPs that registered it will refuse its ' +
          'assertions (rotate: README, "Broker keys")',
      );
    }
  }

  const database = openDatabase(databaseUrl);
  if (config.migrateOnStart) await migrate(database.pool, MIGRATIONS_DIR, logger);

  const app = await buildApp({ ...config, secretKeys, consoleSignInCode }, { database, keys, logger });
  await app.listen({ host: config.host, port: config.port });
  if (embedded !== undefined && process.env.HOST === undefined) {
    // The generated admin token and the console link below open the console: this machine only.
    logger.warn(
      { host: config.host, port: config.port },
      `listening on ${DEVELOPMENT_HOST} only: the embedded database's default (development); set HOST ` +
        '(HOST=0.0.0.0: every interface) to be reachable from other machines',
    );
  }
  if (consoleSignInCode !== undefined) {
    const minutes = SIGN_IN_CODE_TTL_MS / 60_000;
    logger.warn(
      {
        url: `${config.publicUrl}/console/sign-in?code=${consoleSignInCode.code}`,
        expiresAt: new Date(consoleSignInCode.expiresAt).toISOString(),
      },
      `console: open this link to sign in (works once, within ${minutes} minutes; development only: ` +
        'the admin token is in ./.data/admin-token)',
    );
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await app.close();
      await database.close();
      await embedded?.stop();
    } finally {
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // Operator mistakes get one readable line; anything else is a bug and keeps its stack.
  if (error instanceof KeysError || error instanceof MigrationError) {
    process.stderr.write(`cannot start: ${error.message}\n`);
  } else {
    process.stderr.write(`cannot start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
