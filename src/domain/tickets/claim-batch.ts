import DataLoader from 'dataloader';
import type pg from 'pg';
import type { Metrics } from '../../observability/metrics.js';
import type { SessionNames } from './ticket.repo.js';

/** One redemption's claim of a self-contained ticket's key (ticket.repo.ts claim). */
export interface Claim {
  key: string;
  sessionId: string;
  appId: string;
  tenantId: string;
  connectionId: string;
  idTokenEnc: string;
  expiresAt: Date;
  /** SHA-256 of the redemption's Idempotency-Key, if it sent one. */
  idempotencyKey: string | null;
  names: SessionNames;
}

/** More claims than this wait for the next INSERT (11 parameters a claim). */
const MAX_BATCH = 256;
/**
 * How long claims wait for the INSERT in flight before going on their own: an INSERT stuck on
 * a dead connection (a half-open TCP link, a lost PgBouncer server) holds up only its own claims
 * past this. A claim commits in a few milliseconds under load.
 */
const MAX_WAIT_MS = 250;

/**
 * Group commit of ticket claims. A claim is one INSERT and one commit, whose flush to disk is
 * most of its cost (bench at c=16: 300–375 µs of PostgreSQL CPU per claim, alone). So while
 * one INSERT is in flight the claims that arrive wait for it, and then go as one
 * `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING hash`: one statement and one
 * commit for all of them, each redemption answered from its own row. Nothing is in flight: a
 * claim goes on the next turn of the event loop, with whatever arrived in the same turn.
 *
 * What a claim guarantees does not change: of any number of claims of one key, across any
 * number of replicas, exactly one inserts the row (in one batch, only the first is sent; the
 * others have lost); `synchronous_commit` stays on, so a claim is answered only once durable;
 * an outage fails every claim waiting (503). A row PostgreSQL refuses (a data error, class 22 or
 * 23) would fail its batch-mates, so then each is tried alone, one after another: one tenant's
 * bad row fails only its own redemption. Rows go in key order, so two batches claiming the same
 * keys (on two replicas) wait for each other in the same order and never deadlock; a batch
 * PostgreSQL still aborts as a deadlock or serialization failure is tried claim by claim too.
 */
export class ClaimBatch {
  readonly #pool: pg.Pool;
  readonly #metrics: Pick<Metrics, 'ticketClaimsPending' | 'ticketClaimBatch'>;
  readonly #loader: DataLoader<Claim, boolean>;
  #inFlight: Promise<unknown> | undefined;

  constructor(
    pool: pg.Pool,
    metrics: Pick<Metrics, 'ticketClaimsPending' | 'ticketClaimBatch'>,
    options: { maxWaitMs?: number } = {},
  ) {
    this.#pool = pool;
    this.#metrics = metrics;
    const maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
    this.#loader = new DataLoader((claims) => this.#dispatch(claims), {
      cache: false,
      maxBatchSize: MAX_BATCH,
      batchScheduleFn: (send) => {
        const inFlight = this.#inFlight;
        if (!inFlight) return void setImmediate(send);
        let sent = false;
        const go = () => {
          if (sent) return;
          sent = true;
          clearTimeout(timer);
          send();
        };
        const timer = setTimeout(go, maxWaitMs);
        void inFlight.then(go);
      },
    });
  }

  /** True for the claim that inserted the row; false for every other claim of the key. */
  async claim(claim: Claim): Promise<boolean> {
    this.#metrics.ticketClaimsPending.inc();
    try {
      return await this.#loader.load(claim);
    } finally {
      this.#metrics.ticketClaimsPending.dec();
    }
  }

  #dispatch(claims: readonly Claim[]): Promise<(boolean | Error)[]> {
    this.#metrics.ticketClaimBatch.observe(claims.length);
    const run = this.#claimAll(claims);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight = settled;
    void settled.then(() => {
      if (this.#inFlight === settled) this.#inFlight = undefined;
    });
    return run;
  }

  async #claimAll(claims: readonly Claim[]): Promise<(boolean | Error)[]> {
    // A key twice in one batch: the first is sent, the others have lost to it.
    const first = new Map<string, number>();
    claims.forEach((claim, i) => {
      if (!first.has(claim.key)) first.set(claim.key, i);
    });
    // In key order: batches that share keys lock them in the same order.
    const sent = claims.filter((claim, i) => first.get(claim.key) === i).sort(byKey);
    try {
      const inserted = await this.#insert(sent);
      return claims.map((claim, i) => first.get(claim.key) === i && inserted.has(claim.key));
    } catch (error) {
      if (!triedAloneAfter(error)) throw error;
    }
    // One after another: a rare path, which should not take the pool's every connection.
    const outcome = new Map<string, boolean | Error>();
    for (const claim of sent) {
      try {
        outcome.set(claim.key, (await this.#insert([claim])).has(claim.key));
      } catch (error) {
        outcome.set(claim.key, error instanceof Error ? error : new Error(String(error)));
      }
    }
    return claims.map((claim, i) => (first.get(claim.key) === i ? (outcome.get(claim.key) ?? false) : false));
  }

  /** The keys inserted. Plain SQL, unnamed (PgBouncer in transaction mode keeps no statements). */
  async #insert(claims: readonly Claim[]): Promise<Set<string>> {
    const result = await this.#pool.query<{ hash: string }>({
      text: insertText(claims.length),
      values: claims.flatMap((c) => [
        c.key,
        c.sessionId,
        c.appId,
        c.tenantId,
        c.connectionId,
        c.idTokenEnc,
        c.expiresAt,
        c.idempotencyKey,
        c.names.idpSub,
        c.names.sid,
        c.names.subject,
      ]),
    });
    return new Set(result.rows.map((row) => row.hash));
  }
}

const insertTexts = new Map<number, string>();

/**
 * The INSERT of `rows` claims: multi-row VALUES, 11 parameters a row. Not `SELECT FROM
 * unnest(…)` with one array a column: PostgreSQL parses and plans an unnamed statement every
 * time, and the unnest form cost it 630 µs for one row against VALUES' 180 (340 for 4 rows,
 * 1,280 for 16; a table like tickets, on this machine).
 */
function insertText(rows: number): string {
  let text = insertTexts.get(rows);
  if (text === undefined) {
    const tuples = Array.from({ length: rows }, (_, row) => {
      const [key, session, app, tenant, connection, token, expires, idempotency, sub, sid, subject] = Array.from(
        { length: 11 },
        (_, column) => `$${row * 11 + column + 1}`,
      );
      return (
        `(${key}, ${key}, ${session}, ${app}, ${tenant}, ${connection}, '{}', ${token}, ${expires}::timestamptz, ` +
        `now(), ${idempotency}, ${sub}, ${sid}, ${subject})`
      );
    });
    text = `INSERT INTO tickets (hash, transaction_id, session_id, app_id, tenant_id, connection_id, identity,
                             id_token_enc, expires_at, redeemed_at, idempotency_key, idp_sub, sid, subject)
            VALUES ${tuples.join(', ')}
            ON CONFLICT DO NOTHING
            RETURNING hash`;
    insertTexts.set(rows, text);
  }
  return text;
}

const byKey = (a: Claim, b: Claim) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Whether a failed batch is tried claim by claim: PostgreSQL refused a value (class 22, data
 * exception) or a constraint (class 23), or aborted the batch as a deadlock (40P01) or a
 * serialization failure (40001). Anything else (the database is unavailable) fails the batch.
 */
function triedAloneAfter(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(2[23]|40P01$|40001$)/.test(code);
}
