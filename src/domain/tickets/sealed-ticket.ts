import { z } from 'zod';
import { SEALED } from '../../crypto/purposes.js';
import type { SecretBox } from '../../crypto/secret-box.js';

/**
 * A self-contained ticket: everything the redeem answer needs, sealed (AES-256-GCM,
 * SECRET_KEY) for the one app it was minted for, so minting writes nothing and a ticket never
 * redeemed costs the database nothing. Exactly-once redemption comes from its claim key, the
 * SHA-256 of the login transaction's state, claimed by one INSERT at redemption (ticket.repo.ts):
 * whatever a callback replay could produce from the same login claims the same key.
 *
 * Unguessable and unforgeable (sealed with a 96-bit random IV under SECRET_KEY), bound to one
 * app (the app id is the seal's associated data), short-lived (its expiry is inside), single-use
 * (the claim).
 */
export interface SealedTicket {
  /** The claim key: SHA-256 (hex) of the login transaction's state. */
  key: string;
  sessionId: string;
  appId: string;
  tenantId: string;
  connectionId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  identity: Record<string, unknown>;
  /** The ID token, for id_token_hint at logout (sealed again for the session at redemption). */
  idToken: string;
}

/** The sealed form: short keys, since every byte travels in a URL. */
const sealedSchema = z.object({
  k: z.string(),
  s: z.string(),
  t: z.string(),
  c: z.string(),
  e: z.number(),
  i: z.record(z.string(), z.unknown()),
  x: z.string(),
});

export function sealTicket(box: SecretBox, ticket: SealedTicket): string {
  const sealed: z.input<typeof sealedSchema> = {
    k: ticket.key,
    s: ticket.sessionId,
    t: ticket.tenantId,
    c: ticket.connectionId,
    e: ticket.expiresAt,
    i: ticket.identity,
    x: ticket.idToken,
  };
  return box.seal(JSON.stringify(sealed), SEALED.ticket(ticket.appId));
}

/** Sealed tickets carry the SecretBox format's prefix; stored tickets are bare random tokens. */
export const isSealedTicket = (ticket: string) => ticket.startsWith('v1.');

/** Undefined when it was not sealed for this app (or at all), or is malformed. Expiry is the caller's. */
export function openTicket(box: SecretBox, appId: string, ticket: string): SealedTicket | undefined {
  const json = box.open(ticket, SEALED.ticket(appId));
  if (json === undefined) return undefined;
  try {
    const p = sealedSchema.parse(JSON.parse(json));
    return {
      key: p.k,
      sessionId: p.s,
      appId,
      tenantId: p.t,
      connectionId: p.c,
      expiresAt: p.e,
      identity: p.i,
      idToken: p.x,
    };
  } catch {
    return undefined;
  }
}
