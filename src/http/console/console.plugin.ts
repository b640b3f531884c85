import fastifyCookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { commaList } from '../../config/env.schema.js';
import { safeEqual } from '../../crypto/tokens.js';
import { BrokerError } from '../../errors/broker-error.js';
import { continueToIdp } from '../browser/continue-to-idp.js';
import { sendPage } from '../browser/pages.js';
import { toBrokerError, logError } from '../errors.js';
import { postedFromHere } from '../form-origin.js';
import { limitRequests } from '../rate-limit.js';
import { consolePage, CONSOLE_HEADERS, signInPage, type Chrome } from './console-layout.js';
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
}

type Req = FastifyRequest<{
  Params: { id: string; n: string; slug: string };
  Body: Record<string, unknown> | undefined;
}>;

/** A comma-separated form field as a list. */
const listField = (value: unknown) => (typeof value === 'string' ? commaList(value) : []);

/** Messages after a redirect, by a fixed code (nothing from the query is reflected). */
const DONE: Record<string, string> = {
  activated: 'The version is active: every sign-in uses it from now on, on every server.',
  revoked: 'The setup link is revoked: its page stops working at once.',
};

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

  app.get('/console', async (request, reply) => page(reply, 200, await views.tenants(chromeOf(request))));
  app.post('/console/tenants', async (request: Req, reply) => {
    const domains = listField(request.body?.domains);
    const body = { slug: request.body?.slug, name: request.body?.name, ...(domains.length > 0 && { domains }) };
    const tenant = await deps.tenants.create(body);
    await views.record(request, 'tenant', tenant.slug, 'create', Object.keys(body).sort());
    return page(reply, 201, await views.tenants(chromeOf(request, { notice: `Tenant ${tenant.slug} created.` })));
  });
  app.post('/console/apps', async (request: Req, reply) => {
    const tenants = listField(request.body?.tenants);
    const body = {
      name: request.body?.name,
      returnUrls: listField(request.body?.returnUrls),
      ...(tenants.length > 0 && { tenants }),
    };
    const created = await deps.apps.create(body);
    await views.record(request, 'app', created.id, 'create', Object.keys(body).sort());
    return page(reply, 201, await views.apps(chromeOf(request), { app: created.id, secret: created.secret }));
  });
  app.post('/console/tenants/:slug/setup-links', async (request: Req, reply) => {
    const link = await views.createLink(request, request.params.slug, undefined);
    return page(reply, 201, await views.tenants(chromeOf(request, { notice: `New setup link (shown once): ${link}` })));
  });
  app.get('/console/connections/:id', async (request: Req, reply) =>
    page(reply, 200, await views.connection(chromeOf(request), request.params.id)),
  );
  app.post('/console/connections/:id/validate', async (request: Req, reply) => {
    const report = await deps.versions.validate(request.params.id, await views.activeVersion(request.params.id));
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.message);
    const chrome = failed.length
      ? chromeOf(request, { error: `Validation failed: ${failed.join('; ')}` })
      : chromeOf(request, { notice: 'Validation: every check passed.' });
    return page(reply, 200, await views.connection(chrome, request.params.id));
  });
  app.post('/console/connections/:id/versions/:n/activate', async (request: Req, reply) => {
    await deps.versions.activate(request.params.id, request.params.n, { force: false, by: chromeOf(request).actor });
    await views.record(request, 'connection-version', `${request.params.id}/${request.params.n}`, 'activate', []);
    return seeOther(reply, `/console/connections/${request.params.id}?done=activated`);
  });
  app.post('/console/connections/:id/versions/:n/test-login', async (request: Req, reply) => {
    const browser = { host: request.host, cookies: request.cookies, requestId: request.id };
    const started = await deps.testLogin.startHere(request.params.id, request.params.n, browser);
    return continueToIdp(reply, started, deps.secureCookies);
  });
  app.post('/console/connections/:id/setup-links', async (request: Req, reply) => {
    const connection = await deps.connections.get(request.params.id);
    const link = await views.createLink(request, connection.tenant, connection.id);
    return page(reply, 201, await views.connection(chromeOf(request), connection.id, link));
  });
  app.post('/console/setup-links/:id/revoke', async (request: Req, reply) => {
    await deps.setupLinks.revoke(request.params.id);
    await views.record(request, 'setup-link', request.params.id, 'revoke', []);
    const connection = request.body?.connection;
    const back =
      typeof connection === 'string' && /^[0-9a-f-]{36}$/.test(connection) ? `/connections/${connection}` : '';
    return seeOther(reply, `/console${back}?done=revoked`);
  });
  app.get('/console/apps', async (request, reply) => page(reply, 200, await views.apps(chromeOf(request))));
  app.post('/console/apps/:id/rotate-secret', async (request: Req, reply) => {
    const { secret } = await deps.apps.rotateSecret(request.params.id);
    await views.record(request, 'app', request.params.id, 'rotate-secret', ['secret']);
    return page(reply, 200, await views.apps(chromeOf(request), { app: request.params.id, secret }));
  });
  app.get('/console/logins', async (request, reply) =>
    page(reply, 200, await views.logins(chromeOf(request), request.query)),
  );
  app.get('/console/changes', async (request, reply) => page(reply, 200, await views.changes(chromeOf(request))));
}
