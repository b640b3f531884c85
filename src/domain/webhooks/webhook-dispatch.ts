import type { Sql, StoredEvent } from '../events/event-log.repo.js';
import type { EventSink } from '../events/events.service.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { WebhookRepo } from './webhook.repo.js';

/**
 * Events to deliveries: in the transaction that stores the events, one first-attempt job per
 * endpoint that receives each; once it commits, this replica's workers start at once.
 */
export class WebhookDispatch implements EventSink {
  constructor(
    private readonly repo: Pick<WebhookRepo, 'recipients'>,
    private readonly queue: Pick<DeliveryQueue, 'enqueue' | 'wake'>,
  ) {}

  async enqueue(sql: Sql, events: readonly StoredEvent[]): Promise<void> {
    const recipients = await this.repo.recipients(sql, events);
    await this.queue.enqueue(
      sql,
      recipients.map(({ endpoint, event }) => ({ data: { endpoint, event, attempt: 1 } })),
    );
  }

  committed(): void {
    this.queue.wake();
  }
}
