import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryQueue } from './delivery-queue.js';

/**
 * Events and webhooks on GET /metrics: events emitted by type, delivery attempts by outcome
 * (delivered, retrying, failed), and the queue's backlog, read from PostgreSQL at each scrape
 * (a scrape during an outage keeps the last values).
 */
export function webhookMetrics(registry: Registry, queue: Pick<DeliveryQueue, 'backlog'>) {
  const eventsEmitted = new Counter({
    name: 'sso_events_emitted_total',
    help: 'Events stored, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'sso_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, retrying (failed, another attempt is scheduled), failed',
    labelNames: ['outcome'],
    registers: [registry],
  });
  let backlog: Promise<{ depth: number; oldestDueSeconds: number }> | undefined;
  // Both gauges read one query per scrape.
  const read = () => {
    backlog ??= queue.backlog().finally(() => setTimeout(() => (backlog = undefined), 100).unref());
    return backlog;
  };
  new Gauge({
    name: 'sso_webhook_queue_depth',
    help: 'Webhook deliveries waiting, due or scheduled',
    registers: [registry],
    async collect() {
      const now = await read().catch(() => undefined);
      if (now) this.set(now.depth);
    },
  });
  new Gauge({
    name: 'sso_webhook_oldest_undelivered_seconds',
    help: 'Age of the oldest webhook delivery that is due and not yet made (0: none)',
    registers: [registry],
    async collect() {
      const now = await read().catch(() => undefined);
      if (now) this.set(now.oldestDueSeconds);
    },
  });
  return { eventsEmitted, deliveries };
}
