import pg from 'pg';

const CHANNEL = 'sso_config_changed';

/**
 * Live configuration across replicas: every admin write announces itself with PostgreSQL
 * NOTIFY, and every broker process LISTENs on a dedicated connection and drops its caches.
 * If the listening connection breaks, notifications may have been missed: the caches are
 * dropped and the connection is re-established with backoff. (LISTEN needs a session, so it
 * does not work through PgBouncer in transaction mode: point DATABASE_URL at PostgreSQL or a
 * session-mode pool; the caches' TTL still bounds staleness without it.)
 */
export class ConfigChanges {
  #client: pg.Client | undefined;
  #stopped = false;
  #retryMs = 250;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      connectionString: string;
      onChange: () => void;
      log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
    },
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.deps.connectionString });
    client.on('notification', () => this.deps.onChange());
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.#client = client;
    this.#retryMs = 250;
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = undefined;
    this.deps.onChange();
    this.deps.log.warn({ reason: error.message, retryMs: this.#retryMs }, 'config change listener lost its connection; caches dropped');
    client.end().catch(() => {});
    this.#timer = setTimeout(() => {
      this.start().catch((reason: Error) => this.#lost(client, reason));
    }, this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
  }

  /** After an admin write: this process's caches at once, every other process's through NOTIFY. */
  async announce(): Promise<void> {
    this.deps.onChange();
    await this.deps.pool.query(`SELECT pg_notify('${CHANNEL}', '')`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#client?.end().catch(() => {});
  }
}
