import fastifyCookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { createHmac } from 'node:crypto';
import { safeEqual } from '../../crypto/tokens.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrokerKeys } from '../../config/broker-keys.js';
import { registeredUris } from '../../domain/connections/redirect-uri.js';
import type { SetupContext, SetupLinkService } from '../../domain/setup-links/setup-link.service.js';
import { BrokerError, isBrokerError } from '../../errors/broker-error.js';
import { continueToIdp } from '../browser/continue-to-idp.js';
import { hexThumbprint } from '../browser/setup.js';
import { renderErrorPage, sendPage } from '../browser/pages.js';
import { logError, toBrokerError } from '../errors.js';
import { postedFromHere } from '../form-origin.js';
import { limitRequests } from '../rate-limit.js';
import { idpProduct, type IdpProduct } from './idp-products.js';
import { domainModel, setupDomainRoutes, type SetupDomains } from './setup-domains.js';
import {
  NO_BROKER_KEY,
  renderSetupLinkPage,
  SETUP_PAGE_HEADERS,
  type Method,
  type SetupPageModel,
} from './setup-page.js';
import { spaceList } from '../../domain/login/start/step-up.js';

export interface SetupDeps {
  setupLinks: SetupLinkService;
  domains: SetupDomains;
  keys: BrokerKeys;
  publicUrl: string;
  /** PUBLIC_URL/api/sso/callback */
  callbackUrl: string;
  /** Signs the forms' CSRF tokens (the first SECRET_KEY). */
  csrfKey: Buffer;
  secureCookies: boolean;
  rateLimitPerMinute: number;
}

type TokenRequest = FastifyRequest<{ Params: { token: string }; Body: Record<string, unknown> | undefined }>;

const THIRTY_DAYS_MS = 30 * 86_400_000;
const asMethod = (value: unknown): Method | undefined =>
  value === 'client_secret_post' || value === 'private_key_jwt' ? value : undefined;
const field = (form: Record<string, unknown> | undefined, name: string) => {
  const value = form?.[name];
  return typeof value === 'string' ? value.trim() : undefined;
};
const colonHex = (base64url: string) =>
  (Buffer.from(base64url, 'base64url').toString('hex').toUpperCase().match(/../g) ?? []).join(':');

/**
 * The setup link's page (contract v3): `/setup/<token>`, HTML forms only. The token is a
 * bearer credential: pages are `no-store` and `no-referrer`, the access log never shows it
 * (logger.ts), forms carry a CSRF token bound to the link and are refused from other origins,
 * and these routes have their own rate limit.
 */
export async function setupRoutes(app: FastifyInstance, deps: SetupDeps) {
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  // The test sign-in starts a login here: it bounds the browser's pending logins by their cookies.
  await app.register(fastifyCookie);
  const origin = new URL(deps.publicUrl).origin;
  const csrfOf = (context: SetupContext) =>
    createHmac('sha256', deps.csrfKey).update(`setup-csrf:${context.link.id}`).digest('base64url');

  app.setErrorHandler((error, request, reply) => {
    const brokerError = toBrokerError(error);
    logError(request, brokerError);
    const page = renderErrorPage({
      code: brokerError.code,
      description: brokerError.description,
      requestId: request.id,
    });
    return sendPage(reply, brokerError.status, page);
  });
  await limitRequests(app, deps.rateLimitPerMinute, (request) => `setup:${request.ip}`);

  const render = async (
    reply: FastifyReply,
    status: number,
    context: SetupContext,
    extra: Partial<Omit<SetupPageModel, 'product' | 'method'>> & { product?: unknown; method?: unknown },
  ) => {
    const current = context.draft ?? context.active;
    // What the page shows in step 1: a choice in the URL, else the one kept on the link, else the
    // method of the settings saved last.
    const method: Method | undefined =
      asMethod(extra.method) ?? asMethod(context.choice.authMethod) ?? current?.settings.tokenEndpointAuthMethod;
    const product = idpProduct(extra.product) ?? idpProduct(context.choice.idpProduct);
    const expiring = [context.active, context.draft].flatMap((v) =>
      v?.clientSecretExpiresAt && v.clientSecretExpiresAt.getTime() - Date.now() < THIRTY_DAYS_MS
        ? [{ what: `The client secret of version ${v.version}`, at: v.clientSecretExpiresAt }]
        : [],
    );
    const keys = [...deps.keys.keys.values()].map((key) => ({
      kid: key.kid,
      active: key.kid === deps.keys.activeKid,
      ...(key.certificatePem && {
        certificateUrl: `${deps.publicUrl}/api/sso/setup/keys/${encodeURIComponent(key.kid)}.crt`,
        notAfter: key.certificateNotAfter,
        sha1Hex: hexThumbprint(key.x5t ?? ''),
        sha256Hex: colonHex(key.x5tS256 ?? ''),
        x5tS256: key.x5tS256,
      }),
    }));
    if (method === 'private_key_jwt') {
      for (const key of deps.keys.keys.values()) {
        const notAfter = key.certificateNotAfter === undefined ? undefined : new Date(key.certificateNotAfter);
        if (notAfter && notAfter.getTime() - Date.now() < THIRTY_DAYS_MS) {
          expiring.push({ what: `The broker certificate of key ${key.kid}`, at: notAfter });
        }
      }
    }
    const { product: _product, method: _method, ...rest } = extra;
    const model: SetupPageModel = {
      base: `/setup/${(reply.request.params as { token: string }).token}`,
      csrf: csrfOf(context),
      tenantName: context.tenant.name,
      connectionId: context.connectionId,
      uris: registeredUris(deps, context.connectionId),
      keys,
      product,
      method,
      active: context.active,
      draft: context.draft,
      linkExpiresAt: context.link.expiresAt,
      expiring,
      ...(await domainModel(deps.domains, context, reply.request.query)),
      ...rest,
    };
    return sendPage(reply, status, renderSetupLinkPage(model), SETUP_PAGE_HEADERS);
  };

  /** The form came from this link's page on this broker: its CSRF token, and not from another site. */
  const assertForm = (request: TokenRequest, context: SetupContext) => {
    if (!safeEqual(field(request.body, 'csrf') ?? '', csrfOf(context)) || !postedFromHere(request, origin)) {
      throw new BrokerError('csrf_failed');
    }
  };

  app.get(
    '/setup/:token',
    async (request: FastifyRequest<{ Params: { token: string }; Querystring: Record<string, unknown> }>, reply) => {
      const context = await deps.setupLinks.open(request.params.token);
      const { idp, method, saved, activated } = request.query;
      // After a save or an activation (POST, then redirect here): what happened, once more on reload.
      const notice =
        context.draft && saved === String(context.draft.version)
          ? `Saved as version ${saved} (a draft: nothing changed for learners yet).`
          : context.active && activated === String(context.active.version)
            ? `Version ${activated} is active: every sign-in uses it from now on, on every server.`
            : undefined;
      const report = context.draft?.lastValidation ?? undefined;
      return render(reply, 200, context, {
        product: idp,
        method,
        ...(notice && { notice }),
        ...(report && { report }),
      });
    },
  );
  const seeOther = (reply: FastifyReply, location: string) =>
    reply
      .code(303)
      .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
      .header('location', location)
      .send();

  /** Why this product and method cannot work on this broker, in the holder's words; undefined when they can. */
  const unworkable = (product: IdpProduct | undefined, method: Method | undefined) =>
    method === 'private_key_jwt' && deps.keys.keys.size === 0
      ? NO_BROKER_KEY
      : product && method && !product.methods.includes(method)
        ? `${product.name} does not support ${method}: choose the other method.`
        : undefined;

  // Step 1, kept on the link: the page shows the same IdP and method on every visit.
  app.post('/setup/:token/choose', async (request: TokenRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    const product = idpProduct(field(request.body, 'idp'));
    const method = asMethod(field(request.body, 'method'));
    if (!product || !method) {
      return render(reply, 400, context, { error: 'Choose an identity provider and a method.' });
    }
    const problem = unworkable(product, method);
    if (problem) return render(reply, 400, context, { product: product.key, method, error: problem });
    await deps.setupLinks.choose(context, { idpProduct: product.key, authMethod: method });
    return seeOther(reply, `/setup/${request.params.token}#s2`);
  });

  app.post('/setup/:token/draft', async (request: TokenRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    const form = request.body;
    const product = idpProduct(field(form, 'idp'));
    const method = field(form, 'tokenEndpointAuthMethod');
    const problem = unworkable(product, asMethod(method));
    if (problem) return render(reply, 400, context, { product: product?.key, method, error: problem });
    const expires = field(form, 'clientSecretExpiresAt');
    const secret = field(form, 'clientSecret');
    const acrValues = field(form, 'acrValues');
    const body = {
      issuer: field(form, 'issuer'),
      discoveryUrl: field(form, 'discoveryUrl') || null,
      clientId: field(form, 'clientId'),
      tokenEndpointAuthMethod: method,
      ...(secret && { clientSecret: secret }),
      // An emptied field clears them; a form without the field (an older page) leaves them.
      ...(acrValues !== undefined && { acrValues: spaceList(acrValues) }),
      ...(expires && { clientSecretExpiresAt: /^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T23:59:59Z` : expires }),
      // What a product needs that an IdP engineer would otherwise have to know (setup notes).
      ...(product?.key === 'auth0' && method === 'private_key_jwt' && { assertionAudience: 'issuer' }),
      ...(product?.key === 'entra' && !context.active && { subjectClaim: 'oid' }),
    };
    await deps.setupLinks.choose(context, { idpProduct: product?.key, authMethod: asMethod(method) });
    let version: number;
    try {
      version = (await deps.setupLinks.saveDraft(context, body, request.ip)).draft.version;
    } catch (error) {
      if (!isBrokerError(error) || error.code !== 'invalid_request') throw error;
      const problems = Array.isArray(error.details) ? (error.details as { path: string; message: string }[]) : [];
      return render(reply, 400, context, { product: product?.key, method, problems, error: error.description });
    }
    return seeOther(reply, `/setup/${request.params.token}?saved=${version}#s3`);
  });

  app.post('/setup/:token/test-login', async (request: TokenRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    const browser = { host: request.host, cookies: request.cookies, requestId: request.id };
    // The diagnostics lead back to this page, where the result and the next action are at the top.
    const backTo = `/setup/${request.params.token}#next`;
    return continueToIdp(reply, await deps.setupLinks.testLogin(context, browser, backTo), deps.secureCookies);
  });

  setupDomainRoutes(app, { deps, render, assertForm, seeOther });
  app.post('/setup/:token/activate', async (request: TokenRequest, reply) => {
    const context = await deps.setupLinks.open(request.params.token);
    assertForm(request, context);
    try {
      const activated = await deps.setupLinks.activate(context, request.ip);
      return seeOther(reply, `/setup/${request.params.token}?activated=${activated.version}#next`);
    } catch (error) {
      if (!isBrokerError(error) || (error.code !== 'not_tested' && error.code !== 'invalid_request')) throw error;
      return render(reply, error.status, context, { error: error.description });
    }
  });
}
