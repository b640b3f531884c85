import pg from 'pg';

const CHANNEL = 'sso_config_changed';
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/**
 * A connection that a NAT or load balancer silently dropped raises no error until something
 * is sent: a heartbeat query this often finds it (and TCP keep-alive beneath it).
 */
const HEARTBEAT_MS = 30_000;

/**
 * Live configuration across replicas, with config-cache.ts beside it: every change to the
 * configuration tables announces itself with PostgreSQL NOTIFY (a trigger, in
 * prisma/migrations/20261129000000_config_change_trigger, so no write path can forget it),
 * and every broker process LISTENs on a dedicated connection and drops its caches.
 * If the listening connection breaks, notifications may have been missed: the caches are
 * dropped, and the connection is re-established with backoff (250 ms doubling to 10 s) for as
 * long as the process runs, however often it fails; once back, the caches are dropped again,
 * since what was read while it was away may already be stale. `listening` says whether it is
 * subscribed now (/readyz reports it). (LISTEN needs a session, so it does not work through
 * PgBouncer in transaction mode: point DATABASE_URL at PostgreSQL or a session-mode pool; the
 * caches' TTL still bounds staleness without it.)
 */
export class ConfigChanges {
  #client: pg.Client | undefined;
  #stopped = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      connectionString: string;
      onChange: () => void;
      log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
      /** Opens the dedicated connection (not yet connected); tests substitute failing ones. */
      newClient?: () => pg.Client;
      /** How often the heartbeat runs (default 30 s). */
      heartbeatMs?: number;
    },
  ) {}

  /** Subscribed now. False from the moment the connection is lost until it is back. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Subscribes; a failure here is start-up's to report. Every later loss is retried. */
  async start(): Promise<void> {
    this.#heartbeat ??= setInterval(() => this.#checkAlive(), this.deps.heartbeatMs ?? HEARTBEAT_MS);
    this.#heartbeat.unref();
    this.#connecting = this.#listen();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  async #listen(): Promise<void> {
    const client =
      this.deps.newClient?.() ??
      new pg.Client({ connectionString: this.deps.connectionString, keepAlive: true, query_timeout: 10_000 });
    let died: Error | undefined;
    const lost = (error: Error) => {
      died ??= error;
      this.#lost(client, error);
    };
    client.on('notification', () => this.deps.onChange());
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      // Killed between LISTEN and here: #lost ignored it, as the client was not ours yet.
      if (died) throw died;
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryMs = FIRST_RETRY_MS;
  }

  /** The heartbeat: a listener whose connection died quietly is treated as lost. */
  #checkAlive(): void {
    const client = this.#client;
    client?.query('SELECT 1').catch((error: Error) => this.#lost(client, error));
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    // The caches are kept: while the database is away nobody can change the configuration,
    // so what they hold cannot go stale; they are dropped when the listener is back.
    this.deps.log.warn(
      { reason: error.message, retryMs: this.#retryMs },
      'config change listener lost its connection; serving cached configuration until it is back',
    );
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(delay * 2, MAX_RETRY_MS);
    this.#timer = setTimeout(() => void this.#reconnect(), delay);
    this.#timer.unref();
  }

  async #reconnect(): Promise<void> {
    if (this.#stopped) return;
    this.#connecting = this.#listen();
    try {
      await this.#connecting;
    } catch (error) {
      if (this.#stopped) return;
      this.deps.log.warn(
        { reason: (error as Error).message, retryMs: this.#retryMs },
        'config change listener could not reconnect; retrying',
      );
      this.#scheduleReconnect();
      return;
    } finally {
      this.#connecting = undefined;
    }
    if (this.#stopped) return;
    // Announcements made while it was away were missed: what was cached meanwhile may be stale.
    this.deps.onChange();
    this.deps.log.info({}, 'config change listener reconnected; caches dropped');
  }

  /**
   * After an admin write: this process's caches at once. Every process, this one too, also
   * hears it through NOTIFY, which a trigger on the configuration tables sends for any change
   * (migration 20261129000000_config_change_trigger), so no write path — nor an operator's
   * SQL — can forget it.
   */
  announce(): void {
    this.deps.onChange();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    // A reconnect under way ends its own client once it sees #stopped.
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
