import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { BrokerKeys } from '../../config/broker-keys.js';
import type { ConnectionVersionRepo } from '../connections/connection-version.repo.js';
import { inBackground } from '../housekeeping.js';
import { parseInput } from '../validation.js';

export type ExpiringCredential =
  | {
      kind: 'client_secret';
      tenant: string;
      connection: string;
      version: number;
      status: 'active' | 'draft';
      expiresAt: string;
    }
  | { kind: 'certificate'; kid: string; expiresAt: string };

const DAY_MS = 86_400_000;
/** The setup page and the log warn this many days ahead. */
export const WARN_DAYS = 30;

export const expiringQuerySchema = z.object({ days: z.coerce.number().int().min(0).max(3650).default(WARN_DAYS) });

/**
 * Expiring credentials (contract v3): the client secrets of active and draft versions (the
 * date the IdP gave), and the broker's key certificates. Listed for operators
 * (`GET /admin/expiring`), exported as a gauge in /metrics, and warned of in the log.
 */
export class ExpiringCredentials {
  constructor(
    private readonly deps: {
      versions: Pick<ConnectionVersionRepo, 'listSecretExpiries'>;
      keys: BrokerKeys;
      log: { warn(obj: object, msg: string): void };
    },
  ) {}

  /** Every credential with a known expiry, soonest first. */
  async all(): Promise<ExpiringCredential[]> {
    const secrets: ExpiringCredential[] = (await this.deps.versions.listSecretExpiries()).flatMap((v) =>
      v.clientSecretExpiresAt && (v.status === 'active' || v.status === 'draft')
        ? [
            {
              kind: 'client_secret' as const,
              tenant: v.tenantSlug,
              connection: v.connectionId,
              version: v.version,
              status: v.status,
              expiresAt: v.clientSecretExpiresAt.toISOString(),
            },
          ]
        : [],
    );
    const certificates: ExpiringCredential[] = [...this.deps.keys.keys.values()].flatMap((key) =>
      key.certificateNotAfter === undefined
        ? []
        : [{ kind: 'certificate' as const, kid: key.kid, expiresAt: new Date(key.certificateNotAfter).toISOString() }],
    );
    return [...secrets, ...certificates].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  /** `GET /admin/expiring?days=30`: what expires within that many days (already expired included). */
  async list(query: unknown): Promise<{ expiring: ExpiringCredential[] }> {
    const { days } = parseInput(expiringQuerySchema, query ?? {});
    const before = new Date(Date.now() + days * DAY_MS).toISOString();
    return { expiring: (await this.all()).filter((c) => c.expiresAt <= before) };
  }

  /** `sso_broker_credential_expiry_timestamp_seconds{kind, tenant, connection, kid}`, read at each scrape. */
  registerGauge(registry: Registry): void {
    const all = () => this.all();
    new Gauge({
      name: 'sso_broker_credential_expiry_timestamp_seconds',
      help: 'When a credential expires (Unix time): client secrets of active and draft versions, broker certificates',
      labelNames: ['kind', 'tenant', 'connection', 'kid'],
      registers: [registry],
      async collect() {
        // A scrape while the database is away keeps the last values rather than failing.
        const credentials = await all().catch(() => undefined);
        if (!credentials) return;
        this.reset();
        for (const c of credentials) {
          const labels =
            c.kind === 'certificate'
              ? { kind: c.kind, tenant: '', connection: '', kid: c.kid }
              : { kind: c.kind, tenant: c.tenant, connection: c.connection, kid: '' };
          this.set(labels, Date.parse(c.expiresAt) / 1000);
        }
      },
    });
  }

  /** Logs a warning for each credential expiring within WARN_DAYS, now and then daily. Returns a stop function. */
  warnDaily(firstAfterMs = 10_000): () => void {
    const run = async () => {
      try {
        for (const c of (await this.list({})).expiring) this.deps.log.warn({ ...c }, `${c.kind} expires soon`);
      } catch (error) {
        this.deps.log.warn({ reason: (error as Error).message }, 'expiring credentials could not be checked');
      }
    };
    return inBackground(run, { firstAfterMs, everyMs: DAY_MS });
  }
}
