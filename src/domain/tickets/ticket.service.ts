import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { randomToken, sha256Hex } from '../../crypto/tokens.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { MappedIdentity } from '../../oidc/identity.js';
import { isSessionName } from '../../oidc/logout-token.js';
import type { Metrics } from '../../observability/metrics.js';
import { appSecretMatches } from '../apps/app.service.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import type { AuthenticationFacts } from '../login/callback/authentication-facts.js';
import { isSealedTicket, openTicket, sealTicket } from './sealed-ticket.js';
import type { SessionNames, TicketRepo } from './ticket.repo.js';

/**
 * The longest self-contained ticket minted: about 2.5 KB is usual (identity, claims and ID
 * token); an ID token with hundreds of groups would make the app's return URL longer than
 * servers accept (8 KB is common), so such a login's ticket is stored instead.
 */
export const MAX_SEALED_TICKET = 4096;
/** Longer tickets are not even opened. */
const MAX_TICKET_LENGTH = 8192;

/** The identity a ticket carries: the redeem answer without its session id. */
export type TicketIdentity = { tenant: string; connection: string; issuer: string } & MappedIdentity &
  AuthenticationFacts & {
    claims: Record<string, unknown>;
  };

export type RedeemAnswer = TicketIdentity & { session: string };

/** A session's ID token is sealed for that session only. */

export class TicketService {
  constructor(
    private readonly deps: {
      tickets: TicketRepo;
      apps: Pick<ConfigCache['apps'], 'findById' | 'isHeld'>;
      secretBox: SecretBox;
      ttlSeconds: number;
      metrics: Pick<Metrics, 'ticketsRedeemed' | 'ticketsRefused'>;
    },
  ) {}

  /**
   * Mints a ticket for one app. Usually self-contained (sealed-ticket.ts): nothing is written
   * now. A login whose ticket would not fit a URL gets a stored one instead: 256 bits from the
   * CSPRNG, kept only as its SHA-256; undefined then when the login transaction already minted
   * one (replay).
   */
  async mint(input: {
    transactionId: string;
    appId: string;
    tenantId: string;
    connectionId: string;
    identity: TicketIdentity;
    idToken: string;
  }): Promise<string | undefined> {
    const sessionId = randomToken(16);
    const sealed = sealTicket(this.deps.secretBox, {
      key: sha256Hex(input.transactionId),
      sessionId,
      appId: input.appId,
      tenantId: input.tenantId,
      connectionId: input.connectionId,
      expiresAt: Date.now() + this.deps.ttlSeconds * 1000,
      identity: input.identity as unknown as Record<string, unknown>,
      idToken: input.idToken,
    });
    if (sealed.length <= MAX_SEALED_TICKET) return sealed;
    const ticket = randomToken(32);
    const inserted = await this.deps.tickets.insert({
      hash: sha256Hex(ticket),
      transactionId: sha256Hex(input.transactionId),
      sessionId,
      appId: input.appId,
      tenantId: input.tenantId,
      connectionId: input.connectionId,
      identity: input.identity as unknown as Record<string, unknown>,
      idTokenEnc: this.deps.secretBox.seal(input.idToken, SEALED.sessionIdToken(sessionId)),
      ttlSeconds: this.deps.ttlSeconds,
      names: sessionNames(input.identity as unknown as Record<string, unknown>),
    });
    return inserted ? ticket : undefined;
  }

  /**
   * Whether `authenticateApp(appId, …)` can be answered without looking for an app the process
   * has never seen: true for an app it holds (whose lookup is shared and cached), false for an
   * id that may name nothing (a guess, whose lookup would cost a query).
   */
  knowsApp(appId: string): boolean {
    return this.deps.apps.isHeld(appId);
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

  /**
   * One answer for unknown, expired, redeemed and foreign tickets: no oracle. With an
   * Idempotency-Key (contract v3, retries), the same app's repeat with the same key within
   * 60 s of the first success gets that answer again; nothing else does.
   */
  async redeem(appId: string, ticket: unknown, idempotencyKey?: string): Promise<RedeemAnswer> {
    const key = idempotencyKey === undefined ? null : sha256Hex(`idempotency-key:${idempotencyKey}`);
    const answer =
      typeof ticket === 'string' && ticket.length > 0 && ticket.length <= MAX_TICKET_LENGTH
        ? isSealedTicket(ticket)
          ? await this.#redeemSealed(appId, ticket, key)
          : await this.#redeemStored(appId, ticket, key)
        : undefined;
    if (!answer) {
      this.deps.metrics.ticketsRefused.inc({ reason: 'invalid_ticket' });
      throw new BrokerError('invalid_ticket');
    }
    this.deps.metrics.ticketsRedeemed.inc();
    return answer;
  }

  /** Opened for this app, unexpired, then claimed: one INSERT, which also opens the session. */
  async #redeemSealed(appId: string, ticket: string, key: string | null): Promise<RedeemAnswer | undefined> {
    const opened = openTicket(this.deps.secretBox, appId, ticket);
    if (!opened) return undefined;
    const answer = answerOf(opened.identity, opened.sessionId);
    const claimed =
      opened.expiresAt > Date.now() &&
      (await this.deps.tickets.claim({
        key: opened.key,
        sessionId: opened.sessionId,
        appId,
        tenantId: opened.tenantId,
        connectionId: opened.connectionId,
        idTokenEnc: this.deps.secretBox.seal(opened.idToken, SEALED.sessionIdToken(opened.sessionId)),
        expiresAt: new Date(opened.expiresAt),
        idempotencyKey: key,
        names: sessionNames(opened.identity),
      }));
    if (claimed) return answer;
    // A retry: the first success (possibly just before the ticket expired) had this key.
    const repeated = key !== null && (await this.deps.tickets.repeat(opened.key, appId, key));
    return repeated && repeated.sessionId === opened.sessionId ? answer : undefined;
  }

  async #redeemStored(appId: string, ticket: string, key: string | null): Promise<RedeemAnswer | undefined> {
    const hash = sha256Hex(ticket);
    const row =
      (await this.deps.tickets.redeem(hash, appId, key)) ??
      (key === null ? undefined : await this.deps.tickets.repeat(hash, appId, key));
    return row ? answerOf(row.identity, row.sessionId) : undefined;
  }
}

/**
 * A ticket minted before `acr` and `amr` were kept (an upgrade mid-login) answers them as null.
 * Object.assign, not spread syntax: spreading the object zod's record parse builds cost 20 µs
 * against 0.4 µs (a redemption's broker CPU is about 300 µs; bench profile, answerOf 26 µs).
 */
function answerOf(identity: Record<string, unknown>, session: string): RedeemAnswer {
  return Object.assign({ acr: null, amr: null }, identity, { session }) as unknown as RedeemAnswer;
}

/**
 * What a logout token will name this session by: the ID token's `sub` and `sid` (kept in the
 * ticket's claims) when a logout token could carry them, and the app's subject for
 * session.ended. A name PostgreSQL cannot store (a NUL, from a hostile IdP) is kept as null,
 * so it cannot fail the redemption.
 */
function sessionNames(identity: Record<string, unknown>): SessionNames {
  const claims = (identity.claims ?? {}) as Record<string, unknown>;
  const name = (value: unknown) => (isSessionName(value) ? value : null);
  const subject = identity.subject;
  return {
    idpSub: name(claims.sub),
    sid: name(claims.sid),
    subject: typeof subject === 'string' && subject.length > 0 && !subject.includes('\u0000') ? subject : null,
  };
}
