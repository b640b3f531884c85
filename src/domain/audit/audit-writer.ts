import type { LoginAttempt, LoginAuditRepo } from './login-audit.repo.js';

/** An attempt as written: with its time taken when it happened, not when the batch is. */
export type TimedAttempt = LoginAttempt & { at: Date };

/**
 * Login attempts off the login path: each process collects them and writes what it has at
 * most every `intervalMs` (100 ms), as one multi-row INSERT, so a login waits for no audit
 * write and PostgreSQL commits once per batch instead of once per attempt. Attempts show in
 * `GET /admin/tenants/:slug/logins` within a second.
 *
 * What a crash can lose: the attempts of the last interval of that process (README). A failed
 * write keeps the batch for the next interval; past `maxPending` waiting attempts (the
 * database away for long), the newest are dropped and counted in the log, so memory stays
 * bounded. `close()` writes what is left (shutdown).
 */
export class AuditWriter {
  #pending: TimedAttempt[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #dropped = 0;
  #closed = false;

  constructor(
    private readonly deps: {
      audit: Pick<LoginAuditRepo, 'recordMany'>;
      log: { warn(obj: object, msg: string): void };
      intervalMs?: number;
      maxPending?: number;
      /** A batch was written (connection health events look at it). */
      onWritten?: (batch: readonly TimedAttempt[]) => void;
    },
  ) {}

  record(attempt: LoginAttempt): void {
    if (this.#pending.length >= (this.deps.maxPending ?? 10_000)) {
      this.#dropped += 1;
      return;
    }
    this.#pending.push({ ...attempt, at: new Date() });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.deps.intervalMs ?? 100);
    // Never what keeps a process alive: close() writes what is left at shutdown.
    this.#timer.unref();
  }

  /** Writes every attempt recorded so far (one INSERT); never throws. */
  async flush(): Promise<void> {
    await this.#writing;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#writing = this.#write(batch);
    await this.#writing;
    this.#writing = undefined;
  }

  async #write(batch: TimedAttempt[]): Promise<void> {
    try {
      await this.deps.audit.recordMany(batch);
      this.deps.onWritten?.(batch);
    } catch (error) {
      // Kept for the next interval, ahead of what came meanwhile, within the bound.
      this.#pending = [...batch, ...this.#pending].slice(0, this.deps.maxPending ?? 10_000);
      this.deps.log.warn(
        { reason: (error as Error).message, attempts: batch.length },
        'could not record login attempts; retrying',
      );
      this.#schedule();
    }
    if (this.#dropped > 0) {
      this.deps.log.warn({ attempts: this.#dropped }, 'login attempts dropped: too many waiting to be recorded');
      this.#dropped = 0;
    }
  }

  /** Stops the timer and writes what is left, once (no retry after shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
