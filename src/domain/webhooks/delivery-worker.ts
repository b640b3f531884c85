import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { randomToken } from '../../crypto/tokens.js';
import type { EventLogRepo, StoredEvent } from '../events/event-log.repo.js';
import type { DeliveryJob, DeliveryQueue } from './delivery-queue.js';
import type { AttemptResult, WebhookSender } from './webhook-sender.js';
import type { WebhookEndpoint, WebhookRepo } from './webhook.repo.js';

/**
 * After a failed attempt n (1-based), the next comes this long after it (contract v4: about
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the eighth, the delivery has failed.
 */
export const RETRY_SCHEDULE_MS = [5e3, 5 * 60e3, 30 * 60e3, 2 * 3600e3, 5 * 3600e3, 10 * 3600e3, 10 * 3600e3];
/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 3600e3;

export interface DeliveryWorkerDeps {
  endpoints: Pick<WebhookRepo, 'findById' | 'recordAttempt' | 'succeeded' | 'failed'>;
  events: Pick<EventLogRepo, 'findById' | 'transaction'>;
  queue: Pick<DeliveryQueue, 'enqueue'>;
  sender: Pick<WebhookSender, 'send'>;
  secretBox: SecretBox;
  now?: () => number;
  onAttempt?: (outcome: 'delivered' | 'retrying' | 'failed', result: AttemptResult) => void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** The webhook body (Standard Webhooks): type, timestamp, data. */
export function webhookBody(event: StoredEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data: event.data });
}

/** The secrets a delivery is signed with now: the current one, and the previous during its 24 h. */
export function signingSecrets(endpoint: WebhookEndpoint, box: SecretBox, now: number): string[] {
  const current = box.open(endpoint.secretEnc, SEALED.webhookSecret(endpoint.id));
  const previous =
    endpoint.previousSecretEnc && endpoint.previousSecretUntil && endpoint.previousSecretUntil.getTime() > now
      ? box.open(endpoint.previousSecretEnc, SEALED.webhookSecret(endpoint.id))
      : undefined;
  return [current, previous].filter((secret): secret is string => secret !== undefined);
}

/**
 * One delivery attempt (a job of the queue): sign and POST the event, record the attempt, and
 * in the same transaction schedule the next one or give up, and keep the endpoint's run of
 * failures (3 days of them disable it). An endpoint deleted or disabled since is skipped.
 */
export class DeliveryWorker {
  constructor(private readonly deps: DeliveryWorkerDeps) {}

  /** A job's attempt; a failure of ours (the database away) is logged and left to pg-boss to retry. */
  readonly handle = async (job: DeliveryJob): Promise<void> => {
    try {
      await this.#attempt(job);
    } catch (error) {
      this.deps.log.warn(
        { webhook: job.endpoint, event: job.event, reason: (error as Error).message },
        'webhook delivery could not be recorded; pg-boss retries it',
      );
      throw error;
    }
  };

  async #attempt(job: DeliveryJob): Promise<void> {
    const now = this.deps.now ?? Date.now;
    const [endpoint, event] = await Promise.all([
      this.deps.endpoints.findById(job.endpoint),
      this.deps.events.findById(job.event),
    ]);
    if (!endpoint || !endpoint.enabled || !event) return;
    const result = await this.deps.sender.send({
      url: endpoint.url,
      id: event.id,
      body: webhookBody(event),
      secrets: signingSecrets(endpoint, this.deps.secretBox, now()),
    });
    const at = new Date(now());
    const delay = result.ok || job.manual ? undefined : RETRY_SCHEDULE_MS[job.attempt - 1];
    const nextAttemptAt = delay === undefined ? null : new Date(at.getTime() + delay);
    const disabled = await this.deps.events.transaction(async (sql) => {
      const off = !result.ok && (await this.deps.endpoints.failed(sql, endpoint.id, at, DISABLE_AFTER_MS));
      // An attempt that disabled its endpoint has no next one.
      const next = off ? null : nextAttemptAt;
      await this.deps.endpoints.recordAttempt(sql, {
        id: randomToken(12),
        endpointId: endpoint.id,
        eventId: event.id,
        eventType: event.type,
        attempt: job.attempt,
        at,
        status: result.status,
        error: result.error ?? null,
        durationMs: result.durationMs,
        nextAttemptAt: next,
      });
      if (result.ok) await this.deps.endpoints.succeeded(sql, endpoint.id);
      if (next) {
        const retry = { endpoint: endpoint.id, event: event.id, attempt: job.attempt + 1 };
        await this.deps.queue.enqueue(sql, [{ data: retry, startAfter: next }]);
      }
      return off;
    });
    const outcome = result.ok ? 'delivered' : nextAttemptAt && !disabled ? 'retrying' : 'failed';
    this.deps.onAttempt?.(outcome, result);
    if (disabled) {
      this.deps.log.warn({ webhook: endpoint.id }, 'webhook endpoint disabled: every delivery failed for 3 days');
    }
  }
}
