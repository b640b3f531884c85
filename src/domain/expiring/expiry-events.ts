import type { Events } from '../events/events.service.js';
import { inBackground } from '../housekeeping.js';
import type { ExpiringCredentials } from './expiring-credentials.js';

const DAY_MS = 86_400_000;
/** credential.expiring is emitted this many days ahead, once each (contract v4). */
export const WARN_AHEAD_DAYS = [30, 7, 1];

/**
 * credential.expiring (contract v4): an active connection's client secret (with the date its
 * IdP gave) or a broker key's certificate, 30, 7 and 1 days before it expires. Checked hourly
 * on every replica; credential_warnings, written in the transaction that stores the event,
 * makes each warning once. A credential first seen closer than a threshold gets the closest
 * warning only (the earlier ones are marked given).
 */
export class ExpiryEvents {
  constructor(
    private readonly deps: {
      credentials: Pick<ExpiringCredentials, 'all'>;
      events: Pick<Events, 'emit'>;
      log: { warn(obj: object, msg: string): void };
    },
  ) {}

  async run(now = Date.now()): Promise<void> {
    for (const credential of await this.deps.credentials.all()) {
      if (credential.kind === 'client_secret' && credential.status !== 'active') continue;
      const left = Date.parse(credential.expiresAt) - now;
      const due = WARN_AHEAD_DAYS.filter((days) => left > 0 && left <= days * DAY_MS);
      if (due.length === 0) continue;
      const closest = Math.min(...due);
      const data =
        credential.kind === 'client_secret'
          ? {
              kind: 'client_secret',
              tenant: credential.tenant,
              connection: credential.connection,
              expiresAt: credential.expiresAt,
            }
          : { kind: 'broker_key', kid: credential.kid, expiresAt: credential.expiresAt };
      const id =
        credential.kind === 'client_secret'
          ? `client_secret:${credential.connection}:${credential.version}`
          : `broker_key:${credential.kid}`;
      await this.deps.events.emit(async (sql) => {
        const { rows } = await sql.query<{ key: string }>(
          `INSERT INTO credential_warnings (key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING key`,
          [due.map((days) => `${id}:${credential.expiresAt}:${days}d`)],
        );
        const fresh = rows.some((row) => row.key.endsWith(`:${closest}d`));
        return { result: undefined, events: fresh ? [{ type: 'credential.expiring' as const, data }] : [] };
      });
    }
  }

  /** Hourly, from shortly after start; returns the stop function. */
  start(firstAfterMs = 10_000): () => void {
    const run = () =>
      this.run().catch((error: unknown) =>
        this.deps.log.warn({ reason: (error as Error).message }, 'credential.expiring could not be checked'),
      );
    return inBackground(run, { firstAfterMs, everyMs: 3_600_000 });
  }
}
