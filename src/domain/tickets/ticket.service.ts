import { SEALED } from '../../crypto/purposes.js';
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../../crypto/secret-box.js';
import { randomToken, sha256Hex } from '../../crypto/tokens.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { MappedIdentity } from '../../oidc/identity.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AppRepo } from '../apps/app.repo.js';
import { appSecretMatches } from '../apps/app.service.js';
import type { TicketRepo } from './ticket.repo.js';

/** The identity a ticket carries: the redeem answer without its session id. */
export type TicketIdentity = { tenant: string; connection: string; issuer: string } & MappedIdentity & {
    claims: Record<string, unknown>;
    authenticatedAt: string;
  };

export type RedeemAnswer = TicketIdentity & { session: string };

/** A session's ID token is sealed for that session only. */

export class TicketService {
  constructor(
    private readonly deps: {
      tickets: TicketRepo;
      apps: Pick<AppRepo, 'findById'>;
      secretBox: SecretBox;
      ttlSeconds: number;
      metrics: Pick<Metrics, 'ticketsRedeemed' | 'ticketsRefused'>;
    },
  ) {}

  /**
   * Mints a ticket for one app: 256 bits from the CSPRNG, stored only as its SHA-256, and
   * records the successful login attempt with it. Returns undefined when the login
   * transaction already minted one (replay); nothing is recorded then.
   */
  async mint(input: {
    transactionId: string;
    appId: string;
    tenantId: string;
    connectionId: string;
    identity: TicketIdentity;
    idToken: string;
    durationMs: number;
  }): Promise<string | undefined> {
    const ticket = randomToken(32);
    const sessionId = randomToken(16);
    const inserted = await this.deps.tickets.insert(
      {
        hash: sha256Hex(ticket),
        transactionId: sha256Hex(input.transactionId),
        sessionId,
        appId: input.appId,
        tenantId: input.tenantId,
        connectionId: input.connectionId,
        identity: input.identity as unknown as Record<string, unknown>,
        idTokenEnc: this.deps.secretBox.seal(input.idToken, SEALED.sessionIdToken(sessionId)),
        ttlSeconds: this.deps.ttlSeconds,
      },
      { id: randomUUID(), durationMs: input.durationMs },
    );
    return inserted ? ticket : undefined;
  }

  /** Checks the app's credentials first: a failed authentication never uses up the ticket. */
  async authenticateApp(appId: string, secret: string) {
    const app = await this.deps.apps.findById(appId);
    // Compare even for an unknown app, so timing does not tell which app ids exist.
    const matches = appSecretMatches(app ?? { secretHash: '' }, secret);
    if (!app || !matches) {
      this.deps.metrics.ticketsRefused.inc({ reason: 'invalid_client' });
      throw new BrokerError('invalid_client');
    }
    return app;
  }

  /** One answer for unknown, expired, redeemed and foreign tickets: no oracle. */
  async redeem(appId: string, ticket: unknown): Promise<RedeemAnswer> {
    const row =
      typeof ticket === 'string' && ticket.length > 0 && ticket.length <= 200
        ? await this.deps.tickets.redeem(sha256Hex(ticket), appId)
        : undefined;
    if (!row) {
      this.deps.metrics.ticketsRefused.inc({ reason: 'invalid_ticket' });
      throw new BrokerError('invalid_ticket');
    }
    this.deps.metrics.ticketsRedeemed.inc();
    return { ...(row.identity as unknown as TicketIdentity), session: row.sessionId };
  }
}
