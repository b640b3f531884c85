import { z } from 'zod';
import { isBrokerError } from '../../errors/broker-error.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import { parseQuery } from '../validation.js';
import type { AttemptOutcomes } from './attempt-outcomes.js';
import { startAppLogin, type StartDeps, type StartProgress } from './start/index.js';
import { matchInitiation } from './start/match-initiation.js';
import { stepUpOf, stepUpQuery } from './start/step-up.js';
import { redirectToIdp, type BrowserContext, type LoginToStart, type StartResult } from './start/redirect-to-idp.js';

export type { BrowserContext, StartResult } from './start/redirect-to-idp.js';

export type LoginStartDeps = StartDeps & {
  apps: ConfigCache['apps'];
  tenants: ConfigCache['tenants'];
  connections: ConfigCache['connections'];
  outcomes: Pick<AttemptOutcomes, 'started' | 'failedToStart' | 'failedBeforeIdp'>;
};

const loginQuerySchema = z.object({
  app: z.string().min(1).max(200),
  return_to: z.string().min(1).max(2048),
  tenant: z.string().min(1).max(63).optional(),
  connection: z.string().min(1).max(200).optional(),
  login_hint: z.string().min(1).max(320).optional(),
  // Echoed back unchanged; control characters would grow sixfold in the sealed cookie (JSON
  // escapes) and have no business in an app's opaque value (RFC 6749's own state is VSCHAR).
  state: z
    .string()
    .max(512)
    // eslint-disable-next-line no-control-regex -- the control characters are what it refuses
    .regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters')
    .optional(),
  ...stepUpQuery,
});

const initiateQuerySchema = z.object({
  iss: z.string().min(1).max(2048),
  target_link_uri: z.string().min(1).max(2048),
  login_hint: z.string().min(1).max(320).optional(),
});

/**
 * Starting a login: the query parameters of the contract, read and bounded, handed to the
 * start pipeline (start/index.ts) — SP-initiated, IdP-initiated, and test logins.
 */
export class LoginStartService {
  constructor(private readonly deps: LoginStartDeps) {}

  /** `GET /api/sso/login` */
  async start(query: unknown, browser: BrowserContext): Promise<StartResult> {
    return this.#recorded(browser, async (progress) => {
      const q = parseQuery(loginQuerySchema, query);
      const request = {
        appId: q.app,
        returnTo: q.return_to,
        connection: q.connection,
        tenant: q.tenant,
        loginHint: q.login_hint,
        appState: q.state,
        stepUp: stepUpOf(q),
      };
      return startAppLogin(this.deps, request, browser, progress);
    });
  }

  /**
   * `GET /api/sso/initiate`: the matching app and connection (start/match-initiation.ts), then
   * an ordinary SP-initiated login, so state, nonce and PKCE bind the result to this browser.
   */
  async initiate(query: unknown, browser: BrowserContext): Promise<StartResult> {
    return this.#recorded(browser, async (progress) => {
      const q = parseQuery(initiateQuerySchema, query);
      progress.step = 'initiation';
      const { app, connection } = await matchInitiation(this.deps, {
        issuer: q.iss,
        targetLinkUri: q.target_link_uri,
        loginHint: q.login_hint,
      });
      const request = {
        appId: app.id,
        returnTo: q.target_link_uri,
        connection: connection.id,
        loginHint: q.login_hint,
      };
      return startAppLogin(this.deps, request, browser, progress);
    });
  }

  /**
   * Runs a start, and records its failure with the step it stopped at and what it knew by then:
   * the request id on the learner's error page then finds it in the login audit, also when no
   * tenant was known yet. (A start that reached the IdP and went back to the app is recorded
   * by redirect-to-idp.ts.)
   */
  async #recorded(browser: BrowserContext, run: (progress: StartProgress) => Promise<StartResult>) {
    const progress: StartProgress = { step: 'request' };
    try {
      return await run(progress);
    } catch (error) {
      this.deps.outcomes.failedBeforeIdp({
        tenant: progress.tenant,
        connectionId: progress.connectionId,
        appId: progress.appId,
        error: isBrokerError(error) ? error.code : 'internal_error',
        step: progress.step,
        requestId: browser.requestId,
      });
      throw error;
    }
  }

  /** A login for a known tenant and connection (test logins): straight to the IdP. */
  async begin(login: LoginToStart): Promise<StartResult> {
    return redirectToIdp(this.deps, login);
  }
}
