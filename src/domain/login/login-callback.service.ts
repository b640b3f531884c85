import { z } from 'zod';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import type { IdpRegistry } from '../../oidc/idp-registry.js';
import type { ConnectionVersionService } from '../connections/connection-version.service.js';
import type { ConnectionService } from '../connections/connection.service.js';
import { redirectUriFor } from '../connections/redirect-uri.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import type { TicketService } from '../tickets/ticket.service.js';
import type { AttemptOutcomes } from './attempt-outcomes.js';
import { verifyCallback } from './callback/index.js';
import type { BrowserContext } from './login-start.service.js';
import { returnToHash, type AppPurpose, type LoginTransaction } from './login-transaction.js';
import { failedStep, type Trace } from './pipeline.js';
import { withParams } from './return-url.js';
import type { CookieToSet, TransactionCookies } from './transaction-cookies.js';

export interface LoginCallbackDeps {
  /** Configuration reads go through the cached directory: no database read in the steady state. */
  apps: Pick<ConfigCache['apps'], 'findById'>;
  tenants: Pick<ConfigCache['tenants'], 'findById'>;
  connections: Pick<ConfigCache['connections'], 'findById'>;
  /** Test logins of one version load its settings here. */
  versions?: Pick<ConnectionVersionService, 'asConnection'>;
  connectionService: Pick<ConnectionService, 'toIdpConnection'>;
  idps: Pick<IdpRegistry, 'idp'>;
  tickets: Pick<TicketService, 'mint'>;
  outcomes: Pick<AttemptOutcomes, 'succeeded' | 'failed' | 'failedBeforeIdp'>;
  cookies: Pick<TransactionCookies, 'find' | 'finished'>;
  /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is this plus `/<connection id>`. */
  callbackUrl: string;
  transactionTtlSeconds: number;
  log: { warn(obj: object, msg: string): void };
}

const callbackQuerySchema = z.object({
  state: z.string().min(1).max(200),
});

/** Finishing a login: `GET /api/sso/callback/{connection}`, from the transaction to the ticket. */
export class LoginCallbackService {
  constructor(private readonly deps: LoginCallbackDeps) {}

  /**
   * Finds the browser's transaction for a callback; a page (400) when there is none. That page
   * gives the learner a request id for IT, so the failure is recorded too: with no tenant (nothing
   * but the URL, which anyone can write, names one), within the budget of failures anyone can make.
   */
  openTransaction(query: unknown, browser: BrowserContext): LoginTransaction {
    const parsed = callbackQuerySchema.safeParse(query);
    if (!parsed.success) {
      this.#noTransaction(browser);
      throw new BrokerError('invalid_state', { description: 'The sign-in response has no state.' });
    }
    const found = this.deps.cookies.find(parsed.data.state, browser.host, browser.cookies);
    if (!found) {
      this.#noTransaction(browser);
      throw new BrokerError('invalid_state');
    }
    const tx = { ...found, requestId: browser.requestId };
    if (Date.now() - tx.createdAt > this.deps.transactionTtlSeconds * 1000) {
      void this.deps.outcomes.failed(tx, 'login_expired', 'transaction');
      throw new BrokerError('login_expired');
    }
    return tx;
  }

  #noTransaction(browser: BrowserContext): void {
    this.deps.outcomes.failedBeforeIdp({
      tenant: undefined,
      connectionId: undefined,
      appId: undefined,
      error: 'invalid_state',
      step: 'transaction',
      requestId: browser.requestId,
    });
  }

  /** Clears a transaction's cookie: one try per transaction, whatever the outcome. */
  finishedCookie(tx: LoginTransaction, host: string | undefined): CookieToSet {
    return this.deps.cookies.finished(tx.state, host);
  }

  /**
   * Contract v2, mix-up defence (RFC 9700 §4.4.2): a transaction finishes only on the redirect
   * URI of the connection it was sent to. A code arriving on another connection's callback
   * was issued by another IdP than the one this login trusts; it must never reach the token
   * endpoint of the transaction's connection (which may belong to a hostile tenant). Refused
   * before any request to an IdP, with a page: nothing is redirected anywhere.
   */
  assertCallbackConnection(tx: LoginTransaction, callbackConnection: string): void {
    if (callbackConnection === tx.connectionId) return;
    void this.deps.outcomes.failed(tx, 'callback_mismatch', 'callback');
    throw new BrokerError('callback_mismatch', {
      logMessage:
        `a transaction for connection ${tx.connectionId} came back on the redirect URI of ` +
        JSON.stringify(callbackConnection.slice(0, 100)),
    });
  }

  /** The connection's redirect URI with the callback's query, as openid-client validates it. */
  callbackUrlOf(tx: LoginTransaction, rawUrl: string): URL {
    const queryAt = rawUrl.indexOf('?');
    return new URL(
      redirectUriFor(this.deps.callbackUrl, tx.connectionId) + (queryAt === -1 ? '' : rawUrl.slice(queryAt)),
    );
  }

  /**
   * `GET /api/sso/callback/{connection}` of an app login, once the transaction is known and
   * belongs to this connection: IdP error → response issuer → code exchange (PKCE, client
   * auth) → ID token checks → identity → ticket. Returns where to send the browser: the
   * app's registered return URL with either `ticket` or `error`.
   */
  async complete(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL): Promise<string> {
    if (tx.purpose.kind !== 'app') throw new Error('unreachable: a test login completes through TestLoginService');
    const purpose = tx.purpose;
    const returnTo = await this.#returnTo(tx, purpose);
    const back = (params: Record<string, string>) => withParams(returnTo, { ...params, state: purpose.appState });
    try {
      const ticket = await this.#completeOrThrow(tx, purpose, query, callbackUrl);
      return back({ ticket });
    } catch (error) {
      await this.deps.outcomes.failed(
        tx,
        isBrokerError(error) ? error.code : 'internal_error',
        failedStep(error) ?? 'ticket',
      );
      if (isBrokerError(error) && error.allowRedirect) {
        this.deps.log.warn({ code: error.code, reason: error.message, connection: tx.connectionId }, 'login failed');
        return back({ error: error.code, error_description: error.description });
      }
      throw error;
    }
  }

  /**
   * The return URL the login was started with, found again among the app's registered ones
   * (the transaction keeps only its hash). An app deleted, or a URL unregistered, during the
   * login: a page, never a redirect.
   */
  async #returnTo(tx: LoginTransaction, purpose: AppPurpose): Promise<string> {
    const app = await this.deps.apps.findById(purpose.appId);
    const returnTo = app?.returnUrls.find((url) => returnToHash(url) === purpose.returnToHash);
    if (returnTo === undefined) {
      await this.deps.outcomes.failed(tx, 'invalid_return_to', 'return_to');
      throw new BrokerError('invalid_return_to', {
        description: 'The application no longer accepts this return address.',
      });
    }
    return returnTo;
  }

  /** Every check of a completed login (callback/index.ts); `trace` (test logins) hears each step. */
  verify(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL, trace?: Trace) {
    return verifyCallback(this.deps, { tx, query, callbackUrl }, trace);
  }

  async #completeOrThrow(
    tx: LoginTransaction,
    purpose: AppPurpose,
    query: Record<string, unknown>,
    callbackUrl: URL,
  ): Promise<string> {
    const { connection, tenant, result, identity, authentication } = await this.verify(tx, query, callbackUrl);
    const ticket = await this.deps.tickets.mint({
      transactionId: tx.state,
      appId: purpose.appId,
      tenantId: tenant.id,
      connectionId: connection.id,
      identity: {
        tenant: tenant.slug,
        connection: connection.id,
        issuer: result.claims.iss,
        ...identity,
        claims: result.claims,
        ...authentication,
      },
      idToken: result.idToken,
    });
    // The same state already minted a ticket: a replayed callback gets nothing.
    if (ticket === undefined)
      throw new BrokerError('login_expired', { description: 'This sign-in was already completed.' });
    this.deps.outcomes.succeeded(tx, tenant, purpose.appId);
    return ticket;
  }
}
