import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrokerKeys } from '../../config/broker-keys.js';
import type { App } from '../../domain/apps/app.repo.js';
import type { Connection } from '../../domain/connections/connection.repo.js';
import { wayBackToApp } from '../../domain/login/start/way-back-to-app.js';
import type { LoginCallbackService } from '../../domain/login/login-callback.service.js';
import type { BrowserContext, LoginStartService, StartResult } from '../../domain/login/login-start.service.js';
import type { CookieToSet } from '../../domain/login/transaction-cookies.js';
import type { LogoutService } from '../../domain/sessions/logout.service.js';
import type { TestLoginService } from '../../domain/login/test-login.service.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { ConsoleSignIn } from '../../domain/login/console-sign-in.service.js';
import { writeConsoleSession, type ConsoleSessions } from '../console/console-session.js';
import { renderDiagnosticsPage } from './diagnostics-page.js';
import { setLoginCookies } from './login-cookies.js';
import { errorBody, logError, toBrokerError } from '../errors.js';
import { prefersJson } from '../content.js';
import { limitRequests } from '../rate-limit.js';
import { renderContinuePage, renderErrorPage, sendPage } from './pages.js';
import { setupDocument, renderSetupPage } from './setup.js';

export interface BrowserDeps {
  /** The console's SSO sign-in finishes on a connection's callback like any login. */
  consoleSignIn: Pick<ConsoleSignIn, 'complete'>;
  consoleSessions: Pick<ConsoleSessions, 'start' | 'seal'>;
  loginStart: LoginStartService;
  loginCallback: LoginCallbackService;
  logout: LogoutService;
  testLogin: TestLoginService;
  keys: BrokerKeys;
  /** For the setup page of one connection (cached configuration). */
  findConnection(id: string): Promise<Connection | undefined>;
  /** For a learner's way back to the app from an error page (cached configuration). */
  findApp(id: string): Promise<App | undefined>;
  publicUrl: string;
  /** PUBLIC_URL/api/sso/callback: each connection's redirect URI is below it. */
  callbackUrl: string;
  secureCookies: boolean;
  rateLimitPerMinute: number;
}

/**
 * The learner's browser: login, callback, the IdP engineer's setup page. Errors are pages
 * (or JSON for callers that prefer it); a redirect happens only to a verified return URL.
 */
export async function browserRoutes(app: FastifyInstance, deps: BrowserDeps) {
  app.setErrorHandler(async (error, request, reply) => {
    const brokerError = toBrokerError(error);
    logError(request, brokerError);
    if (prefersJson(request.headers.accept)) {
      return reply
        .code(brokerError.status)
        .headers({ 'cache-control': 'no-store' })
        .send(errorBody(brokerError, request.id));
    }
    // Without the database (an outage) there is no way back to offer, and the page says the rest.
    const wayBack =
      request.routeOptions.url === '/api/sso/login'
        ? await wayBackToApp({ apps: { findById: deps.findApp } }, request.query, brokerError).catch(() => undefined)
        : undefined;
    return sendPage(
      reply,
      brokerError.status,
      renderErrorPage({
        code: brokerError.code,
        description: brokerError.description,
        requestId: request.id,
        organisation: brokerError.organisation,
        learnerCase: brokerError.learnerCase,
        wayBack,
      }),
    );
  });

  await limitRequests(app, deps.rateLimitPerMinute);
  // Only the browser flow has cookies (the login transaction); apps and operators send none.
  await app.register(fastifyCookie);

  const setCookies = (reply: FastifyReply, cookies: readonly CookieToSet[]) =>
    setLoginCookies(reply, cookies, deps.secureCookies);

  /** To the IdP with the transaction cookie, or back to the app when the IdP cannot be reached. */
  const startLogin = (reply: FastifyReply, result: StartResult) => {
    setCookies(reply, result.cookies);
    return redirect(reply, result.location);
  };
  // request.host is the Host header, or X-Forwarded-Host from a proxy TRUST_PROXY names.
  const browserOf = (request: FastifyRequest): BrowserContext => ({
    host: request.host,
    cookies: request.cookies,
    requestId: request.id,
  });

  app.get('/api/sso/login', async (request, reply) =>
    startLogin(reply, await deps.loginStart.start(request.query, browserOf(request))),
  );
  app.get('/api/sso/test-login', async (request, reply) =>
    startLogin(
      reply,
      await deps.testLogin.start((request.query as { token?: unknown } | undefined)?.token, browserOf(request)),
    ),
  );
  app.get('/api/sso/initiate', async (request, reply) =>
    startLogin(reply, await deps.loginStart.initiate(request.query, browserOf(request))),
  );

  // Each connection's own redirect URI (contract v2): the code is redeemed only at the IdP
  // of the connection whose redirect URI it arrived on, and only for a login sent there.
  app.get(
    '/api/sso/callback/:connection',
    async (
      request: FastifyRequest<{ Params: { connection: string }; Querystring: Record<string, unknown> }>,
      reply,
    ) => {
      const tx = deps.loginCallback.openTransaction(request.query, browserOf(request));
      setCookies(reply, [deps.loginCallback.finishedCookie(tx, request.host)]);
      deps.loginCallback.assertCallbackConnection(tx, request.params.connection);
      const callbackUrl = deps.loginCallback.callbackUrlOf(tx, request.url);
      if (tx.purpose.kind === 'console') {
        const signedIn = await deps.consoleSignIn.complete(tx, request.query, callbackUrl);
        const session = await deps.consoleSessions.start({ method: 'sso', ...signedIn });
        writeConsoleSession(reply, deps.consoleSessions, session, deps.secureCookies);
        // A page, not a redirect: the SameSite=Strict cookie set on this cross-site arrival is
        // sent with a navigation that starts here.
        return sendPage(reply, 200, renderContinuePage('/console', 'Signed in: continue to the console'));
      }
      if (tx.purpose.kind === 'test') {
        const diagnostics = await deps.testLogin.complete(tx, request.query, callbackUrl);
        if (prefersJson(request.headers.accept)) return reply.header('cache-control', 'no-store').send(diagnostics);
        return sendPage(reply, 200, renderDiagnosticsPage(diagnostics, request.id, tx.purpose.backTo));
      }
      return redirect(reply, await deps.loginCallback.complete(tx, request.query, callbackUrl));
    },
  );

  // The shared callback of contract v1 finishes nothing: a code that arrives here cannot say
  // which IdP issued it. The page tells the IdP engineer where the right redirect URI is —
  // whatever cookies the browser holds: a pending login's cookie is on / and reaches this path
  // too, and an IdP still registered here must be told the same thing then.
  app.get('/api/sso/callback', async () => {
    throw new BrokerError('callback_mismatch', {
      description:
        `This identity provider sends sign-ins to ${deps.callbackUrl}, which no longer completes them: ` +
        `every connection has its own redirect URI, ${deps.callbackUrl}/<connection id>. Your IT team finds it on ` +
        `the setup page, ${deps.publicUrl}/api/sso/setup?connection=<connection id>, and registers it at the ` +
        'identity provider.',
    });
  });

  app.get('/api/sso/logout', async (request, reply) => redirect(reply, await deps.logout.start(request.query)));
  app.get('/api/sso/logout/done', async (request, reply) => redirect(reply, deps.logout.finish(request.query)));

  app.get('/api/sso/setup', async (request: FastifyRequest<{ Querystring: { connection?: unknown } }>, reply) => {
    const id = request.query.connection;
    let connection: Connection | undefined;
    if (id !== undefined) {
      connection = typeof id === 'string' ? await deps.findConnection(id) : undefined;
      if (!connection)
        throw new BrokerError('not_found', {
          description: 'No connection has this id. Ask the operator for the setup link of your connection.',
        });
    }
    const doc = setupDocument(deps, connection);
    if (prefersJson(request.headers.accept) || !request.headers.accept?.includes('text/html')) return doc;
    return sendPage(reply, 200, renderSetupPage(doc));
  });

  // The certificate of a broker key, for IdPs that register keys by certificate (Entra ID).
  app.get('/api/sso/setup/keys/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const kid = request.params.file.endsWith('.crt') ? request.params.file.slice(0, -'.crt'.length) : undefined;
    const certificate = kid === undefined ? undefined : deps.keys.keys.get(kid)?.certificatePem;
    if (kid === undefined || certificate === undefined)
      throw new BrokerError('not_found', { description: 'No broker key has a certificate by this name.' });
    return reply
      .headers({
        'content-type': 'application/x-pem-file',
        'content-disposition': `attachment; filename="${kid.replace(/[^\w.-]/g, '_')}.crt"`,
        'cache-control': 'public, max-age=300',
      })
      .send(certificate);
  });
}

function redirect(reply: FastifyReply, location: string) {
  return reply
    .code(302)
    .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
    .header('location', location)
    .send();
}
