import { randomUUID } from 'node:crypto';
import { SEALED } from '../../crypto/purposes.js';
import { randomBytesPooled } from '../../crypto/random.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { AppRepo } from '../apps/app.repo.js';
import { OPERATOR_EVENT_TYPES, type EventLogRepo, type EventType } from '../events/event-log.repo.js';
import type { Events } from '../events/events.service.js';
import { parseInput } from '../validation.js';
import type { DeliveryQueue } from './delivery-queue.js';
import { createWebhookSchema, deliveriesQuerySchema, patchWebhookSchema } from './webhook.schema.js';
import type { WebhookEndpoint, WebhookRepo } from './webhook.repo.js';

/** During a rotation the previous secret signs too, this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600e3;

/** An endpoint as the admin API shows it: never a secret. */
export function toWebhookView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    app: endpoint.appId,
    description: endpoint.description,
    enabled: endpoint.enabled,
    ...(endpoint.disabledReason !== null && { disabledReason: endpoint.disabledReason }),
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

/** A signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks). */
const newSecret = () => `whsec_${randomBytesPooled(32).toString('base64')}`;

/** `app` endpoints hear only of their own sessions: configuration events are the operators'. */
function assertSubscribable(events: readonly string[], appId: string | null): void {
  const operatorOnly = events.filter((type) => OPERATOR_EVENT_TYPES.includes(type as EventType));
  if (appId !== null && operatorOnly.length > 0)
    throw new BrokerError('invalid_request', {
      description:
        `An app's endpoint cannot subscribe to ${operatorOnly.join(', ')}: ` + 'those go to endpoints without an app.',
    });
}

/** The admin API's webhook endpoints (contract v4: /admin/webhooks). */
export class WebhookService {
  constructor(
    private readonly deps: {
      repo: WebhookRepo;
      apps: Pick<AppRepo, 'findById'>;
      events: Pick<Events, 'emit'>;
      queue: Pick<DeliveryQueue, 'send'>;
      findEvent: EventLogRepo['findById'];
      secretBox: SecretBox;
    },
  ) {}

  async #endpoint(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.deps.repo.findById(id);
    if (!endpoint) throw new BrokerError('not_found', { description: 'No such webhook endpoint.' });
    return endpoint;
  }

  /** The secret is in this answer only. */
  async create(body: unknown) {
    const input = parseInput(createWebhookSchema, body);
    const appId = input.app ?? null;
    if (appId !== null && !(await this.deps.apps.findById(appId)))
      throw new BrokerError('invalid_request', { description: `No app ${appId}.` });
    assertSubscribable(input.events, appId);
    const id = randomUUID();
    const secret = newSecret();
    const endpoint = await this.deps.repo.create({
      id,
      url: input.url,
      events: input.events,
      appId,
      description: input.description ?? null,
      secretEnc: this.deps.secretBox.seal(secret, SEALED.webhookSecret(id)),
    });
    return { ...toWebhookView(endpoint), secret };
  }

  async list() {
    return (await this.deps.repo.list()).map(toWebhookView);
  }

  async get(id: string) {
    return toWebhookView(await this.#endpoint(id));
  }

  async update(id: string, body: unknown) {
    const input = parseInput(patchWebhookSchema, body);
    const endpoint = await this.#endpoint(id);
    if (input.events) assertSubscribable(input.events, endpoint.appId);
    const updated = await this.deps.repo.update(id, input);
    if (!updated) throw new BrokerError('not_found', { description: 'No such webhook endpoint.' });
    return toWebhookView(updated);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.repo.delete(id)))
      throw new BrokerError('not_found', { description: 'No such webhook endpoint.' });
  }

  /** A new secret, shown once; the old one keeps signing (beside it) for 24 h. */
  async rotateSecret(id: string): Promise<{ secret: string }> {
    const endpoint = await this.#endpoint(id);
    const secret = newSecret();
    await this.deps.repo.rotateSecret(
      id,
      this.deps.secretBox.seal(secret, SEALED.webhookSecret(id)),
      endpoint.secretEnc,
      new Date(Date.now() + ROTATION_OVERLAP_MS),
    );
    return { secret };
  }

  /** A webhook.test event, for this endpoint only (also an app's). */
  async test(id: string): Promise<void> {
    const endpoint = await this.#endpoint(id);
    await this.deps.events.emit(async () => ({
      result: undefined,
      events: [{ type: 'webhook.test', data: {}, endpointId: endpoint.id }],
    }));
  }

  async deliveries(id: string, query: unknown) {
    const { limit } = parseInput(deliveriesQuerySchema, query ?? {});
    await this.#endpoint(id);
    const attempts = await this.deps.repo.deliveries(id, limit);
    return {
      deliveries: attempts.map((a) => ({
        event: a.eventId,
        type: a.eventType,
        attempt: a.attempt,
        at: a.at.toISOString(),
        status: a.status,
        ...(a.error !== null && { error: a.error }),
        durationMs: a.durationMs,
        ...(a.nextAttemptAt !== null && { nextAttemptAt: a.nextAttemptAt.toISOString() }),
      })),
    };
  }

  /**
   * Delivers the event to this endpoint again, now: one attempt, beside any still scheduled.
   * Only an event the endpoint receives (or was sent): never another app's, nor an operator
   * event to an app's endpoint.
   */
  async retry(id: string, eventId: string): Promise<void> {
    const endpoint = await this.#endpoint(id);
    const event = await this.deps.findEvent(eventId);
    const attempts = event ? await this.deps.repo.attempts(id, eventId) : 0;
    if (!event || (attempts === 0 && !(await this.deps.repo.receives(endpoint, event))))
      throw new BrokerError('not_found', {
        description: 'No such event for this endpoint (events are kept 30 days).',
      });
    await this.deps.queue.send([{ data: { endpoint: id, event: eventId, attempt: attempts + 1, manual: true } }]);
  }
}
