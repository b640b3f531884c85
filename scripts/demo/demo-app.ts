import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import createClient from 'openapi-fetch';
import { Webhook } from 'standardwebhooks';
import { escapeHtml } from '../../src/http/browser/html.js';
import type { components, paths } from './broker-api.js';

/**
 * The demo's relying app — what an app team writes against the broker, and nothing more:
 * "Continue with SSO" sends the learner to the broker (by organisation subdomain or work
 * email), `/sso/done` checks its own `state`, redeems the ticket server-to-server, keeps the
 * identity in its own session, and "Sign out" goes through the broker's logout. `/sso/events`
 * receives the broker's signed `session.ended` webhooks (Standard Webhooks, verified with the
 * standardwebhooks library): a learner who signs out at their organisation's IdP is signed out
 * here too.
 */
export interface DemoAppOptions {
  port: number;
  /** The broker's PUBLIC_URL, for the browser: e.g. http://sso.localhost:3000. */
  brokerUrl: string;
  /** The broker as this server reaches it (server to server), e.g. http://127.0.0.1:3000. */
  brokerApiUrl: string;
  /** The broker's URL for one organisation: its subdomain, e.g. http://acme.sso.localhost:3000. */
  tenantUrl(slug: string): string;
  app: { id: string; secret: string };
  organisations: { slug: string; name: string }[];
  /** The secret (`whsec_…`) of this app's webhook endpoint, `/sso/events`. */
  webhookSecret?: string;
}

export interface DemoApp {
  url: string;
  returnUrl: string;
  close(): Promise<void>;
}

/** The redeem answer, as the broker's OpenAPI document describes it (broker-api.d.ts). */
type Identity = components['schemas']['Identity'];

const STYLE = `body{font-family:system-ui,sans-serif;background:#eef2f7;color:#1b1f24;margin:0}
header{background:#123f6b;color:#fff;padding:1rem 2rem;font-weight:700;font-size:1.1rem}
main{max-width:34rem;margin:8vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 1rem}a.button,button{display:inline-block;margin:.35rem .5rem .35rem 0;padding:.6rem 1rem;background:#123f6b;color:#fff;text-decoration:none;border:0;border-radius:4px;font-size:1rem;cursor:pointer}
label{display:block;margin:1rem 0 .25rem;font-weight:600}input{padding:.5rem;font-size:1rem;width:16rem;border:1px solid #767676;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}dt{font-weight:600}dd{margin:0}.error{color:#a4000f;font-weight:600}`;

const html = (
  body: string,
) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Demo learning portal</title><style>${STYLE}</style></head><body><header>Demo learning portal</header><main>${body}</main></body></html>`;

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return out;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startDemoApp(options: DemoAppOptions): Promise<DemoApp> {
  const url = `http://localhost:${options.port}`;
  const returnUrl = `${url}/sso/done`;
  const sessions = new Map<string, Identity>();
  /** Portal sessions whose broker session the organisation ended: the learner is told why. */
  const endedByOrganisation = new Set<string>();
  const broker = createClient<paths>({
    baseUrl: options.brokerApiUrl,
    headers: { authorization: `Basic ${Buffer.from(`${options.app.id}:${options.app.secret}`).toString('base64')}` },
  });
  const names = new Map(options.organisations.map((o) => [o.slug, o.name]));

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}) =>
    res
      .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers })
      .end(body);
  const redirect = (res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}) =>
    res.writeHead(302, { location, ...headers }).end();

  const home = (identity: Identity | undefined, notice?: string) => {
    if (identity) {
      return html(`<h1>Welcome, ${escapeHtml(identity.name ?? identity.login)}</h1>
<p>You are signed in through your organisation's single sign-on.</p>
<dl><dt>Organisation</dt><dd data-testid="organisation">${escapeHtml(names.get(identity.tenant) ?? identity.tenant)} (<code>${escapeHtml(identity.tenant)}</code>)</dd>
<dt>Login</dt><dd data-testid="login">${escapeHtml(identity.login)}</dd>
<dt>Email verified</dt><dd>${identity.emailVerified === null ? 'not stated' : identity.emailVerified ? 'yes' : 'no'}</dd>
<dt>Groups</dt><dd>${escapeHtml(identity.groups.join(', ') || '—')}</dd>
<dt>User id</dt><dd><code>${escapeHtml(identity.issuer)}</code> · <code>${escapeHtml(identity.subject)}</code></dd></dl>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`);
    }
    const orgButtons = options.organisations
      .map(
        (o) =>
          `<a class="button" href="/login?org=${encodeURIComponent(o.slug)}">Continue with SSO — ${escapeHtml(o.name)}</a>`,
      )
      .join('\n');
    return html(`<h1>Sign in to the learning portal</h1>
${notice ? `<p class="error" role="alert">${escapeHtml(notice)}</p>` : ''}
<p>Choose your organisation:</p>
${orgButtons}
<form method="get" action="/login"><label for="email">Or continue with your work email</label>
<input id="email" name="email" type="email" autocomplete="email" placeholder="you@acme.example" required>
<button type="submit">Continue with SSO</button></form>`);
  };

  const server = createServer(async (req, res) => {
    try {
      const requestUrl = new URL(req.url ?? '/', url);
      const jar = cookies(req);
      const identity = jar.demo_session ? sessions.get(jar.demo_session) : undefined;

      if (requestUrl.pathname === '/' && req.method === 'GET') {
        const ended = jar.demo_session !== undefined && endedByOrganisation.delete(jar.demo_session);
        return send(
          res,
          200,
          home(identity, ended ? 'You signed out at your organisation, so you are signed out here too.' : undefined),
          ended ? { 'set-cookie': 'demo_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0' } : {},
        );
      }

      if (requestUrl.pathname === '/sso/events' && req.method === 'POST') {
        // The raw body, verified before it is parsed: signature, id and a fresh timestamp.
        const secret = options.webhookSecret;
        let body = '';
        for await (const chunk of req) body += chunk;
        let event: { type: string; data: { session?: string } };
        try {
          if (!secret) throw new Error('no webhook secret yet');
          event = new Webhook(secret).verify(body, req.headers as Record<string, string>) as typeof event;
        } catch {
          return res.writeHead(400).end();
        }
        if (event.type === 'session.ended') {
          // Idempotent: a delivery may come twice.
          for (const [id, held] of sessions) {
            if (held.session !== event.data.session) continue;
            sessions.delete(id);
            endedByOrganisation.add(id);
          }
        }
        return res.writeHead(204).end();
      }

      if (requestUrl.pathname === '/login' && req.method === 'GET') {
        // Our own CSRF check for the round trip: the broker hands `state` back untouched.
        const state = randomBytes(16).toString('base64url');
        const email = requestUrl.searchParams.get('email');
        let org = requestUrl.searchParams.get('org');
        if (email) {
          // "Continue with SSO": is there single sign-on for this address, and whose?
          const found = await broker.GET('/api/sso/discover', { params: { query: { email } } });
          if (!found.data?.sso)
            return send(res, 200, home(undefined, `There is no single sign-on for ${email}. Ask your IT team.`));
          org = found.data.tenant;
        }
        const base = org ? options.tenantUrl(org) : options.brokerUrl;
        const login = new URL('/api/sso/login', base);
        login.search = new URLSearchParams({
          app: options.app.id,
          return_to: returnUrl,
          state,
          ...(email && { login_hint: email }),
        }).toString();
        return redirect(res, login.href, {
          'set-cookie': `demo_state=${state}; HttpOnly; SameSite=Lax; Path=/sso/done; Max-Age=600`,
        });
      }

      if (requestUrl.pathname === '/sso/done' && req.method === 'GET') {
        const q = requestUrl.searchParams;
        const clearState = 'demo_state=; HttpOnly; SameSite=Lax; Path=/sso/done; Max-Age=0';
        if (!jar.demo_state || !sameSecret(q.get('state') ?? '', jar.demo_state))
          return send(res, 400, home(undefined, 'That sign-in did not start here. Please try again.'), {
            'set-cookie': clearState,
          });
        if (q.get('error'))
          return send(
            res,
            200,
            home(undefined, `Sign-in failed (${q.get('error')}): ${q.get('error_description') ?? ''}`),
            { 'set-cookie': clearState },
          );
        // Server to server: the ticket is worth an identity exactly once, to this app only. The
        // client is typed from the broker's OpenAPI document. A careful app sends an
        // Idempotency-Key and retries once on a network error (or a 503): its retry gets the
        // same answer, while a replayed ticket URL never does.
        const idempotencyKey = randomBytes(16).toString('base64url');
        const redeem = () =>
          broker.POST('/api/sso/tickets/redeem', {
            body: { ticket: q.get('ticket') ?? '' },
            headers: { 'idempotency-key': idempotencyKey },
          });
        let outcome = await redeem().catch(() => undefined);
        if (!outcome || outcome.response.status === 503) {
          await new Promise((retry) => setTimeout(retry, 1000));
          outcome = await redeem().catch(() => undefined);
        }
        const redeemed = outcome?.data;
        const error = outcome?.error;
        if (!redeemed) {
          return send(
            res,
            200,
            home(undefined, `The sign-in could not be completed (${error?.error ?? 'no answer'}). Please try again.`),
            { 'set-cookie': clearState },
          );
        }
        const session = randomBytes(24).toString('base64url');
        sessions.set(session, redeemed);
        return redirect(res, '/', {
          'set-cookie': [clearState, `demo_session=${session}; HttpOnly; SameSite=Lax; Path=/`],
        });
      }

      if (requestUrl.pathname === '/logout' && req.method === 'POST') {
        if (jar.demo_session) sessions.delete(jar.demo_session);
        const clear = 'demo_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0';
        if (!identity) return redirect(res, '/', { 'set-cookie': clear });
        // Through the broker, which signs the learner out at their IdP too, then back here.
        const logout = new URL('/api/sso/logout', options.brokerUrl);
        logout.search = new URLSearchParams({
          app: options.app.id,
          session: identity.session,
          post_logout_redirect_uri: `${url}/`,
        }).toString();
        return redirect(res, logout.href, { 'set-cookie': clear });
      }
      send(res, 404, html('<h1>Not found</h1><p><a href="/">Home</a></p>'));
    } catch (error) {
      send(res, 500, html(`<h1>Something went wrong</h1><p>${escapeHtml((error as Error).message)}</p>`));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    url,
    returnUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
