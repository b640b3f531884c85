import fastifyCookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../../crypto/tokens.js';
import { BrokerError } from '../../errors/broker-error.js';
import { continueToIdp } from '../browser/continue-to-idp.js';
import { sendPage } from '../browser/pages.js';
import { toBrokerError, logError } from '../errors.js';
import { prefersJson } from '../content.js';
import { postedFromHere } from '../form-origin.js';
import { limitRequests } from '../rate-limit.js';
import { appRoutes } from './console-app-routes.js';
import { domainRoutes } from './console-domain-routes.js';
import { tenantRoutes, type Req, type RouteKit } from './console-routes.js';
import { webhookRoutes, type ConsoleWebhooks } from './console-webhook-routes.js';
import { consoleNotFoundPage, consolePage, CONSOLE_HEADERS, signInPage, type Chrome } from './console-layout.js';
import {
  consoleCookie,
  writeConsoleSession,
  type ConsoleSession,
  type ConsoleSessions,
  type SignInCode,
} from './console-session.js';
import type { ConsoleSignIn } from '../../domain/login/console-sign-in.service.js';
import { consoleViews, type ConsoleData } from './console-views.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null;
  }
}

export interface ConsoleDeps extends ConsoleData {
  sessions: ConsoleSessions;
  /** Sign-in through the broker's own SSO (CONSOLE_TENANT). */
  sso: Pick<ConsoleSignIn, 'tenant' | 'start'>;
  adminToken: string | undefined;
  /** A sign-in code that works once, until it expires (the embedded database's start-up link), if any. */
  signInCode?: SignInCode | undefined;
  publicUrl: string;
  secureCookies: boolean;
  rateLimitPerMinute: number;
  /** Webhook endpoints and their deliveries (the admin API's service). */
  webhooks: ConsoleWebhooks;
}

/** Messages after a redirect, by a fixed code (nothing from the query is reflected). */
const DONE: Record<string, string> = {
  activated: 'The version is active: every sign-in uses it from now on, on every server.',
  drafted: 'Saved as a draft version: run its test sign-in, then activate it (nothing changed for sign-ins yet).',
  revoked: 'The setup link is revoked: its page stops working at once.',
  switched: 'The connection’s switches are saved.',
  'test-sent': 'A webhook.test event is on its way to the endpoint: its delivery shows below within seconds (reload).',
  'retry-sent': 'The event is being delivered again, now: the attempt shows below within seconds (reload).',
  'webhook-enabled': 'The endpoint is enabled again: it receives the events of its list from now on.',
  'webhook-deleted': 'The webhook endpoint is deleted: it receives nothing more.',
  'domain-verified': 'The domain is verified by its TXT record: it sends its people to this tenant’s sign-in.',
  'domain-forced': 'The domain is marked verified (without DNS): it sends its people to this tenant’s sign-in.',
  'domain-removed': 'The domain is removed from this tenant: it sends nobody here any more.',
};

/**
 * An unknown path below `/console`, asked for by a browser: a console page (404) that leads back
 * into the console, not the API's JSON. Undefined for any other path (the caller answers).
 */
export function consoleNotFound(request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0] ?? '';
  if (!(path === '/console' || path.startsWith('/console/')) || prefersJson(request.headers.accept)) return undefined;
  return sendPage(reply, 404, consoleNotFoundPage(path), CONSOLE_HEADERS);
}

/**
 * `/console`: the operators' web console, server-rendered HTML forms. Sign-in with ADMIN_TOKEN
 * makes a stored session and its sealed cookie (console-session.ts; HttpOnly, SameSite=Strict,
 * /console only), which sign-out revokes;
 * every form carries the session's CSRF token and is refused from another origin; writes are
 * recorded in the change log with the session's actor. Its own rate limit.
 */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps) {
  await app.register(fastifyCookie);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await limitRequests(app, deps.rateLimitPerMinute, (request) => `console:${request.ip}`);
  const origin = new URL(deps.publicUrl).origin;
  const { name: cookieName, options: cookieOptions } = consoleCookie(deps.secureCookies);
  const views = consoleViews(deps);
  const page = (reply: FastifyReply, status: number, html: string) => sendPage(reply, status, html, CONSOLE_HEADERS);
  const seeOther = (reply: FastifyReply, location: string) =>
    reply.code(303).header('cache-control', 'no-store').header('location', location).send();
  const chromeOf = (request: FastifyRequest, extra: Partial<Chrome> = {}): Chrome => {
    const session = request.consoleSession;
    if (!session) throw new BrokerError('unauthorized');
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    return {
      actor: session.actor,
      csrf: session.csrf,
      notice: typeof done === 'string' ? DONE[done] : undefined,
      ...extra,
    };
  };
  const sameOrigin = (request: FastifyRequest) => postedFromHere(request, origin);

  app.decorateRequest('consoleSession', null);
  app.setErrorHandler((error, request, reply) => {
    const brokerError = toBrokerError(error);
    logError(request, brokerError);
    if (!request.consoleSession) return page(reply, brokerError.status, signInPage({ error: brokerError.description }));
    const chrome = chromeOf(request, { error: brokerError.description });
    return page(reply, brokerError.status, consolePage('That did not work', chrome, views.backLink()));
  });
  app.addHook('onRequest', async (request, reply) => {
    // The cookie, and its stored session: unknown, revoked, or no longer admitted is signed out.
    request.consoleSession = (await deps.sessions.resume(request.cookies[cookieName])) ?? null;
    if (request.url.startsWith('/console/sign-in')) return;
    if (!request.consoleSession) return seeOther(reply, '/console/sign-in');
    // Sliding idle timeout: every request renews the cookie.
    writeConsoleSession(reply, deps.sessions, request.consoleSession, deps.secureCookies);
  });
  app.addHook('preHandler', async (request: Req) => {
    if (request.method !== 'POST' || request.url.startsWith('/console/sign-in')) return;
    const session = request.consoleSession;
    if (!session || !deps.sessions.csrfMatches(session, request.body?.csrf) || !sameOrigin(request)) {
      throw new BrokerError('csrf_failed');
    }
  });

  let signInCode = deps.signInCode;
  app.get('/console/sign-in', async (request: FastifyRequest<{ Querystring: { code?: unknown } }>, reply) => {
    const { code } = request.query;
    if (code === undefined) return page(reply, 200, signInPage({ ssoTenant: deps.sso.tenant }));
    if (signInCode !== undefined && Date.now() >= signInCode.expiresAt) signInCode = undefined;
    if (signInCode !== undefined && typeof code === 'string' && safeEqual(code, signInCode.code)) {
      signInCode = undefined; // once
      writeConsoleSession(reply, deps.sessions, await deps.sessions.start({ method: 'token' }), deps.secureCookies);
      request.log.info({ actor: 'admin token' }, 'console: signed in with the start-up link');
      return seeOther(reply, '/console');
    }
    const error = 'This sign-in link has expired or was used already: sign in with the admin token.';
    return page(reply, 401, signInPage({ error, ssoTenant: deps.sso.tenant }));
  });
  // Through the broker's own SSO: to CONSOLE_TENANT's IdP; the callback opens the session.
  app.post('/console/sign-in/sso', async (request, reply) => {
    if (!sameOrigin(request)) throw new BrokerError('csrf_failed');
    const started = await deps.sso.start({ host: request.host, cookies: request.cookies, requestId: request.id });
    return continueToIdp(reply, started, deps.secureCookies);
  });
  app.post('/console/sign-in', async (request: Req, reply) => {
    const token = request.body?.token;
    if (!sameOrigin(request)) throw new BrokerError('csrf_failed');
    if (deps.adminToken === undefined) throw new BrokerError('admin_disabled');
    if (typeof token !== 'string' || !safeEqual(token, deps.adminToken)) {
      return page(reply, 401, signInPage({ error: 'That is not the admin token.', ssoTenant: deps.sso.tenant }));
    }
    writeConsoleSession(reply, deps.sessions, await deps.sessions.start({ method: 'token' }), deps.secureCookies);
    request.log.info({ actor: 'admin token' }, 'console: signed in');
    return seeOther(reply, '/console');
  });
  app.post('/console/sign-out', async (request, reply) => {
    // Revoked where it is stored: a copy of the cookie kept anywhere opens nothing afterwards.
    if (request.consoleSession) await deps.sessions.end(request.consoleSession);
    reply.clearCookie(cookieName, cookieOptions);
    return seeOther(reply, '/console/sign-in');
  });

  const kit: RouteKit = { deps, views, page, seeOther, chromeOf };
  tenantRoutes(app, kit);
  appRoutes(app, kit);
  domainRoutes(app, kit);
  webhookRoutes(app, kit);
}
