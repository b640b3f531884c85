import type { EventLogRepo, NewEvent, Sql, StoredEvent } from './event-log.repo.js';

/** Where stored events go next (webhooks): within the same transaction, then once it committed. */
export interface EventSink {
  /** Enqueues what the events need, in the transaction that stores them. */
  enqueue(sql: Sql, events: readonly StoredEvent[]): Promise<void>;
  /** The transaction committed: the work may start now (best effort; it would start anyway). */
  committed?(events: readonly StoredEvent[]): void;
}

/**
 * Emits events (contract v4): each is a row of `events` when the transaction that emits it
 * commits, together with what its sinks enqueue (webhook deliveries), so nothing reports an
 * event done before it is stored, and no stored event is left without its deliveries.
 */
export class Events {
  readonly #sinks: EventSink[] = [];

  constructor(
    private readonly deps: {
      repo: EventLogRepo;
      onEmitted?: (event: StoredEvent) => void;
    },
  ) {}

  addSink(sink: EventSink): void {
    this.#sinks.push(sink);
  }

  /**
   * Emits within the caller's transaction (`sql`). The caller commits, then calls the returned
   * function (its sinks may start at once).
   */
  async emitIn(sql: Sql, events: readonly NewEvent[]): Promise<() => void> {
    if (events.length === 0) return () => {};
    const stored = await this.deps.repo.append(sql, events);
    for (const sink of this.#sinks) await sink.enqueue(sql, stored);
    return () => {
      for (const event of stored) this.deps.onEmitted?.(event);
      for (const sink of this.#sinks) sink.committed?.(stored);
    };
  }

  /** Emits in a transaction of its own, which `work` may share (before the events are added). */
  async emit<T>(work: (sql: Sql) => Promise<{ result: T; events: readonly NewEvent[] }>): Promise<T> {
    let committed = () => {};
    const result = await this.deps.repo.transaction(async (sql) => {
      const done = await work(sql);
      committed = await this.emitIn(sql, done.events);
      return done.result;
    });
    committed();
    return result;
  }
}
