import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrokerKeys } from '../../config/broker-keys.js';
import { transactionCookieName } from '../../domain/login/login-transaction.js';
import type { LoginService, StartResult } from '../../domain/login/login.service.js';
import type { LogoutService } from '../../domain/login/logout.service.js';
import type { TestLoginService } from '../../domain/login/test-login.service.js';
import { BrokerError } from '../../errors/broker-error.js';
import { renderDiagnosticsPage } from './diagnostics-page.js';
import { errorBody, logError, toBrokerError } from '../errors.js';
import { prefersJson } from '../content.js';
import { limitRequests } from '../rate-limit.js';
import { renderErrorPage, sendPage } from './pages.js';
import { setupDocument, renderSetupPage } from './setup.js';

export interface BrowserDeps {
  login: LoginService;
  logout: LogoutService;
  testLogin: TestLoginService;
  keys: BrokerKeys;
  publicUrl: string;
  callbackUrl: string;
  secureCookies: boolean;
  rateLimitPerMinute: number;
}

/**
 * The learner's browser: login, callback, the IdP engineer's setup page. Errors are pages
 * (or JSON for callers that prefer it); a redirect happens only to a verified return URL.
 */
export async function browserRoutes(app: FastifyInstance, deps: BrowserDeps) {
  app.setErrorHandler((error, request, reply) => {
    const brokerError = toBrokerError(error);
    logError(request, brokerError);
    if (prefersJson(request.headers.accept)) {
      return reply.code(brokerError.status).headers({ 'cache-control': 'no-store' }).send(errorBody(brokerError, request.id));
    }
    return sendPage(reply, brokerError.status, renderErrorPage({ code: brokerError.code, description: brokerError.description, requestId: request.id, organisation: brokerError.organisation }));
  });

  await limitRequests(app, deps.rateLimitPerMinute);
  // Only the browser flow has cookies (the login transaction); apps and operators send none.
  await app.register(fastifyCookie);

  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, path: '/api/sso/callback' };

  /** To the IdP with the transaction cookie, or back to the app when the IdP cannot be reached. */
  const startLogin = (reply: FastifyReply, result: StartResult) => {
    if (result.cookie) {
      reply.setCookie(result.cookie.name, result.cookie.value, {
        ...cookieOptions,
        maxAge: result.cookie.maxAgeSeconds,
        ...(result.cookie.domain && { domain: result.cookie.domain }),
      });
    }
    return redirect(reply, result.location);
  };

  // request.host is the Host header, or X-Forwarded-Host from a proxy TRUST_PROXY names.
  app.get('/api/sso/login', async (request, reply) => startLogin(reply, await deps.login.start(request.query, request.host)));
  app.get('/api/sso/test-login', async (request, reply) =>
    startLogin(reply, await deps.testLogin.start((request.query as { token?: unknown } | undefined)?.token)),
  );
  app.get('/api/sso/initiate', async (request, reply) => startLogin(reply, await deps.login.initiate(request.query, request.host)));

  app.get('/api/sso/callback', async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
    const tx = deps.login.openTransaction(request.query, request.cookies);
    // One try per transaction: the cookie goes whatever the outcome.
    reply.clearCookie(transactionCookieName(tx.state), { ...cookieOptions, ...(tx.cookieDomain && { domain: tx.cookieDomain }) });
    const queryAt = request.url.indexOf('?');
    const callbackUrl = new URL(deps.callbackUrl + (queryAt === -1 ? '' : request.url.slice(queryAt)));
    if (tx.test) {
      const diagnostics = await deps.testLogin.complete(tx, request.query, callbackUrl);
      if (prefersJson(request.headers.accept)) return reply.header('cache-control', 'no-store').send(diagnostics);
      return sendPage(reply, 200, renderDiagnosticsPage(diagnostics, request.id));
    }
    return redirect(reply, await deps.login.complete(tx, request.query, callbackUrl));
  });

  app.get('/api/sso/logout', async (request, reply) => redirect(reply, await deps.logout.start(request.query)));
  app.get('/api/sso/logout/done', async (request, reply) => redirect(reply, deps.logout.finish(request.query)));

  app.get('/api/sso/setup', async (request, reply) => {
    const doc = setupDocument(deps);
    if (prefersJson(request.headers.accept) || !request.headers.accept?.includes('text/html')) return doc;
    return sendPage(reply, 200, renderSetupPage(doc));
  });

  // The certificate of a broker key, for IdPs that register keys by certificate (Entra ID).
  app.get('/api/sso/setup/keys/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const kid = request.params.file.endsWith('.crt') ? request.params.file.slice(0, -'.crt'.length) : undefined;
    const certificate = kid === undefined ? undefined : deps.keys.keys.get(kid)?.certificatePem;
    if (certificate === undefined) throw new BrokerError('not_found', { description: 'No broker key has a certificate by this name.' });
    return reply
      .headers({
        'content-type': 'application/x-pem-file',
        'content-disposition': `attachment; filename="${kid!.replace(/[^\w.-]/g, '_')}.crt"`,
        'cache-control': 'public, max-age=300',
      })
      .send(certificate);
  });
}

function redirect(reply: FastifyReply, location: string) {
  return reply.code(302).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).header('location', location).send();
}
