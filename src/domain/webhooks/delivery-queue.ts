import PgBoss from 'pg-boss';
import type pg from 'pg';
import { inTransaction } from '../../db/transaction.js';
import type { Sql } from '../events/event-log.repo.js';

/** One delivery attempt to make: of an event, to an endpoint. */
export interface DeliveryJob {
  endpoint: string;
  event: string;
  attempt: number;
  /** An operator's retry: one attempt, outside the schedule. */
  manual?: boolean;
}

const QUEUE = 'webhook-delivery';
/**
 * Workers per replica, each fetching up to BATCH jobs: at most 16 deliveries at once. A batch
 * ends with its slowest attempt (at most 10 s), so small batches keep one slow endpoint from
 * holding up many others' deliveries.
 */
const WORKERS = 4;
const BATCH = 4;

export interface DeliveryQueueOptions {
  pool: pg.Pool;
  log: { warn(obj: object, msg: string): void };
  /** How often idle workers look for jobs other replicas enqueued (s); this replica's wake them. */
  pollingIntervalSeconds?: number;
  /** How often pg-boss's supervisor expires jobs a dead replica held (s). */
  maintenanceIntervalSeconds?: number;
}

/**
 * The webhook deliveries' queue: pg-boss, on the broker's own database and pool.
 *
 * Why pg-boss (10.x, the last line for Node 20) over graphile-worker: it needs nothing from
 * the connection beyond single transactions — jobs are fetched with `FOR UPDATE SKIP LOCKED`,
 * its locks are transaction-scoped, workers poll — so it works behind PgBouncer in transaction
 * mode, as the broker does (graphile-worker waits on LISTEN, which a transaction pooler does
 * not carry). Jobs are inserted in the transaction that stores their event (`enqueue`), so an
 * event never exists without its deliveries. A replica that dies mid-delivery leaves its job
 * active until it expires (20 s: an attempt takes at most 10 s); the supervisor, every 5 s on
 * each replica, then hands it to any replica (at least once). A handler that fails (the
 * database away) is retried by pg-boss with backoff from 2 s, 12 times (over an hour).
 * Each attempt is one job; the schedule of the next is the delivery worker's.
 */
export class DeliveryQueue {
  readonly #boss: PgBoss;
  readonly #workers: string[] = [];
  readonly #options: DeliveryQueueOptions;

  constructor(options: DeliveryQueueOptions) {
    this.#options = options;
    this.#boss = new PgBoss({
      db: { executeSql: (text, values) => options.pool.query(text, values) },
      schema: 'pgboss',
      migrate: true,
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 5,
    });
    this.#boss.on('error', (error) =>
      options.log.warn({ reason: (error as Error).message }, 'webhook queue: a background step failed; will retry'),
    );
  }

  /**
   * Installs pg-boss's schema and the queue if missing, one replica at a time. pg-boss takes its
   * own advisory lock inside the transaction that installs, after that transaction has read the
   * catalog: a replica starting with another on a fresh database then created the schema again
   * and stopped (duplicate key in pg_namespace; test/integration/process.test.ts caught it). Under
   * this lock, taken in a transaction of its own, the second replica's pg-boss looks only once
   * the first's install has committed, finds it, and installs nothing.
   */
  async start(): Promise<void> {
    await inTransaction(this.#options.pool, async (turn) => {
      await turn.query(`SELECT pg_advisory_xact_lock(hashtext('sso-broker.pg-boss-install'))`, []);
      await this.#boss.start();
      if (!(await this.#boss.getQueue(QUEUE))) {
        await this.#boss.createQueue(QUEUE, {
          name: QUEUE,
          retryLimit: 12,
          retryDelay: 2,
          retryBackoff: true,
          expireInSeconds: 20,
        });
      }
    });
  }

  /** Starts this replica's workers on `handle`. */
  async work(handle: (job: DeliveryJob) => Promise<void>): Promise<void> {
    for (let i = 0; i < WORKERS; i++) {
      this.#workers.push(
        await this.#boss.work<DeliveryJob>(
          QUEUE,
          { batchSize: BATCH, pollingIntervalSeconds: this.#options.pollingIntervalSeconds ?? 1 },
          // Each job on its own: one that fails (the database away) is failed alone and retried
          // by pg-boss; the others of its batch complete as they are.
          async (jobs) => {
            await Promise.all(
              jobs.map((job) =>
                handle(job.data).catch((error: unknown) =>
                  this.#boss.fail(QUEUE, job.id, { message: (error as Error).message }),
                ),
              ),
            );
          },
        ),
      );
    }
  }

  /** Inserts jobs within the caller's transaction. */
  async enqueue(sql: Sql, jobs: readonly { data: DeliveryJob; startAfter?: Date }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#boss.insert(
      jobs.map((job) => ({ name: QUEUE, data: job.data, ...(job.startAfter && { startAfter: job.startAfter }) })),
      { db: { executeSql: (text, values) => sql.query(text, values) } },
    );
  }

  /** Inserts jobs on their own (an operator's retry), and wakes this replica's workers. */
  async send(jobs: readonly { data: DeliveryJob; startAfter?: Date }[]): Promise<void> {
    await this.enqueue(this.#options.pool as unknown as Sql, jobs);
    this.wake();
  }

  /** Jobs were just committed here: this replica's workers look now rather than at their next poll. */
  wake(): void {
    for (const id of this.#workers) this.#boss.notifyWorker(id);
  }

  /** Deliveries waiting (due or scheduled), and how old the oldest due one is (s; 0 when none). */
  async backlog(): Promise<{ depth: number; oldestDueSeconds: number }> {
    const { rows } = await this.#options.pool.query<{ depth: number; oldest: number | null }>(
      `SELECT count(*)::int AS depth,
              extract(epoch FROM now() - min(start_after) FILTER (WHERE start_after <= now()))::float AS oldest
         FROM pgboss.job WHERE name = $1 AND state < 'completed'`,
      [QUEUE],
    );
    return { depth: rows[0]?.depth ?? 0, oldestDueSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
  }

  /** Stops fetching; waits up to 12 s for the attempts in flight (each is cut at 10 s). */
  async stop(): Promise<void> {
    await this.#boss.stop({ graceful: true, close: false, timeout: 12_000, wait: true });
  }
}
