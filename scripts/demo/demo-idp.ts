import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { Agent, fetch as fetchVia } from 'undici';
import { escapeHtml } from '../../src/http/browser/html.js';

/**
 * One organisation's identity provider for the demo: oidc-provider (OpenID Certified) with a
 * real sign-in form (email and password), a few users, and one client — the broker.
 */
export interface DemoUser {
  sub: string;
  email: string;
  password: string;
  name: string;
  givenName: string;
  familyName: string;
  groups: string[];
}

export interface DemoIdp {
  issuer: string;
  close(): Promise<void>;
}

export interface DemoIdpOptions {
  port: number;
  /** Shown on the sign-in page: "Acme Corp sign-in". */
  organisation: string;
  /** The page's accent colour, so two organisations' pages are told apart at a glance. */
  colour: string;
  users: DemoUser[];
  client:
    | {
        clientId: string;
        redirectUri: string;
        postLogoutRedirectUri: string;
        method: 'client_secret_post';
        clientSecret: string;
      }
    | {
        clientId: string;
        redirectUri: string;
        postLogoutRedirectUri: string;
        method: 'private_key_jwt';
        jwks: { keys: object[] };
      };
  /**
   * The connection's back-channel logout URI, registered as its IdP engineer would (with `sid`
   * required): signing out here then signs the learner out of every app that used the sign-in.
   */
  backchannelLogoutUri?: string;
}

/**
 * Logout tokens go to the broker on this machine: its `*.localhost` names resolve to loopback
 * here, as browsers resolve them (RFC 6761). oidc-provider's own guard refuses loopback, which a
 * demo on one machine needs; this connects to loopback only.
 */
const toThisMachine = new Agent({
  connect: {
    lookup: (_hostname, options, callback) =>
      options.all
        ? (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
            { address: '127.0.0.1', family: 4 },
          ])
        : callback(null, '127.0.0.1', 4),
  },
});

const page = (title: string, colour: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0}
main{max-width:24rem;margin:12vh auto;background:#fff;padding:2rem;border-radius:8px;border-top:6px solid ${colour};box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #767676;border-radius:4px}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;background:${colour};color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#a4000f;font-weight:600}.hint{color:#4a525c;font-size:.9rem}</style></head>
<body><main>${body}</main></body></html>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/** The issuer a demo IdP on `port` has (known before it starts: connections are made first). */
export function demoIdpIssuer(port: number): string {
  return `http://localhost:${port}`;
}

export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const issuer = demoIdpIssuer(options.port);
  const byEmail = new Map(options.users.map((user) => [user.email, user]));
  const bySub = new Map(options.users.map((user) => [user.sub, user]));
  const { client } = options;
  // oidc-provider warns that its in-memory storage and generated keys are for development:
  // exactly what a demo IdP is, so those two warnings are not shown.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('oidc-provider WARNING')) warn(...args);
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        ...(client.method === 'client_secret_post'
          ? { client_secret: client.clientSecret }
          : { jwks: client.jwks as never, token_endpoint_auth_signing_alg: 'RS256' }),
        token_endpoint_auth_method: client.method,
        redirect_uris: [client.redirectUri],
        post_logout_redirect_uris: [client.postLogoutRedirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        ...(options.backchannelLogoutUri && {
          backchannel_logout_uri: options.backchannelLogoutUri,
          backchannel_logout_session_required: true,
        }),
      },
    ],
    ...(options.backchannelLogoutUri && {
      fetch: (async (url: string | URL, init?: object) =>
        fetchVia(url, { ...init, dispatcher: toThisMachine } as never)) as unknown as typeof fetch,
    }),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      ...(options.backchannelLogoutUri && { backchannelLogout: { enabled: true } }),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page(
            `${options.organisation}: sign out`,
            options.colour,
            `<h1>Sign out of ${escapeHtml(options.organisation)}?</h1>${form.replace('</form>', '<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></form>')}`,
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.body = page(`${options.organisation}: signed out`, options.colour, '<h1>You are signed out.</h1>');
        },
      },
    },
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'groups'],
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [`demo-idp-${options.port}-cookie-key`] },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const user = bySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          given_name: user.givenName,
          family_name: user.familyName,
          groups: user.groups,
        }),
      };
    },
  });

  console.warn = warn;

  const signInForm = (uid: string, error?: string, email = '') =>
    page(
      `${options.organisation} sign-in`,
      options.colour,
      `<h1>${escapeHtml(options.organisation)} sign-in</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">Work email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="hint">Demo identity provider for ${escapeHtml(options.organisation)}.</p>`,
    );

  const close = await serveWithSignIn(provider, {
    port: options.port,
    signInPage: (uid) => signInForm(uid),
    signIn: (form, uid) => {
      const email = (form.get('email') ?? '').trim().toLowerCase();
      const user = byEmail.get(email);
      if (!user || user.password !== form.get('password'))
        return { page: signInForm(uid, 'That email and password do not match.', email) };
      return { accountId: user.sub };
    },
  });
  return { issuer, close };
}

/** What a sign-in form's submission leads to: an account, the form again, or a refusal. */
export type SignInOutcome =
  { accountId: string; acr?: string | undefined; amr?: string[] | undefined } | { page: string } | { deny: string };

/**
 * An oidc-provider behind a node:http server on 127.0.0.1:`port`, whose interaction pages are
 * a sign-in form: GET /interaction/:uid shows `signInPage`, and its POST to
 * /interaction/:uid/login is judged by `signIn`. A signed-in account's consent is granted for
 * the scopes asked. Resolves to a function that closes the server.
 */
export async function serveWithSignIn(
  provider: Provider,
  options: {
    port: number;
    signInPage(uid: string): string;
    /** `params`: the authorization request's (acr_values, max_age, prompt…). */
    signIn(form: URLSearchParams, uid: string, params: Record<string, unknown>): SignInOutcome;
  },
): Promise<() => Promise<void>> {
  const html = (res: ServerResponse, body: string) =>
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  const callback = provider.callback();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const interaction = /^\/interaction\/([^/]+)(\/login)?$/.exec(
        new URL(req.url ?? '/', 'http://localhost').pathname,
      );
      if (interaction && req.method === 'GET')
        return html(res, options.signInPage((await provider.interactionDetails(req, res)).uid));
      if (interaction?.[2] && req.method === 'POST') {
        const details = await provider.interactionDetails(req, res);
        const outcome = options.signIn(await readForm(req), details.uid, details.params);
        if ('page' in outcome) return html(res, outcome.page);
        if ('deny' in outcome)
          return await provider.interactionFinished(req, res, {
            error: 'access_denied',
            error_description: outcome.deny,
          });
        const grant = new provider.Grant({ accountId: outcome.accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        return await provider.interactionFinished(
          req,
          res,
          { login: { accountId: outcome.accountId, acr: outcome.acr, amr: outcome.amr }, consent: { grantId } },
          { mergeWithLastSubmission: false },
        );
      }
      callback(req, res);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`IdP error: ${(error as Error).message}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
