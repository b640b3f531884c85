import { Webhook } from 'standardwebhooks';
import { request, type Agent } from 'undici';
import { IdpAddressRefused } from '../../oidc/network-policy.js';

/** A 2xx within this long is a delivery (contract v4); anything slower is a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** One signed POST of an event to an endpoint, as Standard Webhooks say it is sent. */
export interface Delivery {
  url: string;
  /** The event id: `webhook-id`, the same on every attempt. */
  id: string;
  body: string;
  /** The endpoint's secrets (`whsec_…`): the current one, and the previous during a rotation. */
  secrets: readonly string[];
}

export interface AttemptResult {
  /** The endpoint's HTTP status; null when there was none. */
  status: number | null;
  ok: boolean;
  error?: string;
  durationMs: number;
}

/**
 * Sends deliveries through connections the webhook network policy polices at connect time
 * (WEBHOOK_PRIVATE_NETWORKS, as IDP_PRIVATE_NETWORKS for IdPs: every address a name resolves
 * to, so DNS rebinding is refused too). A hostile endpoint costs a bounded amount: no redirect
 * is followed; the whole attempt, headers included, is cut at 10 s; the answer's body is never
 * read (its status is all a delivery needs), so 10 MB or a byte a second cost nothing.
 */
export class WebhookSender {
  constructor(
    private readonly agent: Agent,
    private readonly now: () => number = Date.now,
  ) {}

  /** Standard Webhooks: `v1,<base64 HMAC-SHA256>` per secret, space-separated. */
  static sign(delivery: Pick<Delivery, 'id' | 'body' | 'secrets'>, at: Date): string {
    return delivery.secrets.map((secret) => new Webhook(secret).sign(delivery.id, at, delivery.body)).join(' ');
  }

  async send(delivery: Delivery): Promise<AttemptResult> {
    const started = performance.now();
    const at = new Date(this.now());
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'sso-broker-webhooks',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': WebhookSender.sign(delivery, at),
    };
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        headersTimeout: DELIVERY_TIMEOUT_MS,
        bodyTimeout: DELIVERY_TIMEOUT_MS,
      });
      // The status is the answer; the body is dropped unread, whatever its size or pace.
      response.body.on('error', () => {}).destroy();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return {
        status: response.statusCode,
        ok,
        ...(!ok && { error: `answered ${response.statusCode}` }),
        durationMs: elapsed(),
      };
    } catch (error) {
      return { status: null, ok: false, error: describe(error), durationMs: elapsed() };
    }
  }
}

/** Why an attempt got no answer, in words an operator can act on (never a secret: URLs carry none). */
function describe(error: unknown): string {
  if (error instanceof IdpAddressRefused) return `refused by the network policy: ${error.reason}`;
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || err.code === 'UND_ERR_HEADERS_TIMEOUT')
    return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  const code = err.code ?? err.cause?.code;
  return code ? `could not connect (${code})` : `could not deliver (${err.message ?? 'unknown error'})`;
}
