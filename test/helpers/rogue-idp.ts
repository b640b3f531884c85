import { createHash, createPublicKey, randomBytes, sign as signWithCallback, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { freePort } from '../../src/config/local.js';
import { testRsaKey } from './test-keys.js';

/**
 * A deliberately misbehaving OpenID provider: many behaviours side by side, each under its own
 * issuer `http://127.0.0.1:<port>/<name>` (`http://<host>:<port>/<name>` with `options.host`).
 * Authorization is automatic (no sign-in form): the authorize endpoint sends the browser
 * straight back with a code. Every behaviour starts from a correct provider and bends one thing.
 */

type PrivateKey = KeyObject;

export interface RogueKeys {
  current: { kid: string; privateKey: PrivateKey; publicJwk: JWK };
  other: { kid: string; privateKey: PrivateKey; publicJwk: JWK };
}

export interface TokenContext {
  issuer: string;
  clientId: string;
  nonce: string;
  keys: RogueKeys;
  clientSecret: string;
}

export interface Behaviour {
  /** A path under `/<name>` where the issuer lives (Okta `oauth2/default`, Keycloak `realms/acme`). */
  basePath?: string;
  /** Authenticates the client at the token endpoint: a reason to refuse (401 invalid_client), or nothing. */
  clientAuth?: (
    form: URLSearchParams,
    ctx: { issuer: string; tokenEndpoint: string },
  ) => Promise<string | undefined> | string | undefined;
  /** Takes over the authorization endpoint (a hostile IdP that bounces the browser elsewhere); return true when it answered. */
  authorize?: (res: ServerResponse, params: URLSearchParams) => boolean;
  /** Edits the authorization response's parameters (code, state) before the redirect, e.g. to add RFC 9207 `iss`. */
  authorizationResponse?: (params: URLSearchParams, ctx: { issuer: string }) => void;
  /** Edits the discovery document. */
  discovery?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** Takes over the discovery answer; return true when it answered. */
  discoveryResponse?: (res: ServerResponse) => boolean;
  /** Edits the ID token claims. */
  claims?: (claims: Record<string, unknown>, ctx: TokenContext) => Record<string, unknown>;
  /** Replaces how the ID token is made (default: RS256 with the current key and its kid). */
  idToken?: (claims: Record<string, unknown>, ctx: TokenContext) => Promise<string> | string;
  /** Takes over the token endpoint's answer; return true when it answered. */
  token?: (res: ServerResponse, tokens: Record<string, unknown>) => boolean | Promise<boolean>;
  /** The JWKS served (default: the current key); may change between calls. */
  jwks?: (keys: RogueKeys, call: number) => { keys: JWK[] } | ((res: ServerResponse) => void);
  /** Edits the userinfo answer, or takes it over (returns a function that answers). */
  userinfo?: (claims: Record<string, unknown>) => Record<string, unknown> | ((res: ServerResponse) => void);
}

export interface RogueIdp {
  base: string;
  port: number;
  /** Closes every open connection (keep-alive too): the next request must connect anew. */
  dropConnections(): void;
  /** `http://127.0.0.1:<port>/<name>[/<basePath>]`: where the behaviour's endpoints live. */
  issuer(name: string): string;
  keys: RogueKeys;
  clientSecret: string;
  /** How many times each `<name>/<endpoint>` was requested. */
  hits: Map<string, number>;
  /** Every code, ID token and access token it handed out. */
  issued: string[];
}

interface Pending {
  name: string;
  clientId: string;
  nonce: string;
  challenge: string;
  redirectUri: string;
}

const b64u = (value: Buffer | string) => Buffer.from(value).toString('base64url');

export async function rs256(
  claims: Record<string, unknown>,
  key: RogueKeys['current'],
  header: Record<string, unknown> = {},
) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header }).sign(key.privateKey);
}

async function makeKey(kid: string) {
  const privateKey = await testRsaKey();
  const publicKey = createPublicKey(privateKey);
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startRogueIdp(
  t: { teardown(fn: () => unknown): void },
  behaviours: Record<string, Behaviour>,
  options: { host?: string } = {},
): Promise<RogueIdp> {
  const port = await freePort();
  // Listens on 127.0.0.1 always; `host` (a name the test's resolver maps) only names it in URLs.
  const base = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const keys: RogueKeys = { current: await makeKey('rogue-1'), other: await makeKey('rogue-other') };
  const clientSecret = 'rogue-client-secret-0123456789';
  const pending = new Map<string, Pending>();
  const hits = new Map<string, number>();
  const issued: string[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', base);
      const [, name = '', ...rest] = url.pathname.split('/');
      const behaviour = behaviours[name];
      if (!behaviour) return json(res, 404, { error: 'no such behaviour' });
      const prefix = behaviour.basePath ? `${behaviour.basePath}/` : '';
      let endpoint = rest.join('/');
      if (prefix) {
        if (!endpoint.startsWith(prefix)) return json(res, 404, { error: 'not found' });
        endpoint = endpoint.slice(prefix.length);
      }
      hits.set(`${name}/${endpoint}`, (hits.get(`${name}/${endpoint}`) ?? 0) + 1);
      const issuer = `${base}/${name}${behaviour.basePath ? `/${behaviour.basePath}` : ''}`;

      if (endpoint === '.well-known/openid-configuration') {
        if (behaviour.discoveryResponse?.(res)) return;
        const doc = {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          userinfo_endpoint: `${issuer}/userinfo`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
        };
        return json(res, 200, behaviour.discovery ? behaviour.discovery(doc) : doc);
      }
      if (endpoint === 'authorize') {
        const p = url.searchParams;
        if (behaviour.authorize?.(res, p)) return;
        const code = randomBytes(16).toString('base64url');
        issued.push(code);
        pending.set(code, {
          name,
          clientId: p.get('client_id') ?? '',
          nonce: p.get('nonce') ?? '',
          challenge: p.get('code_challenge') ?? '',
          redirectUri: p.get('redirect_uri') ?? '',
        });
        const back = new URL(p.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', p.get('state') ?? '');
        behaviour.authorizationResponse?.(back.searchParams, { issuer });
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (endpoint === 'token' && req.method === 'POST') {
        const form = await readForm(req);
        const refused = await behaviour.clientAuth?.(form, { issuer, tokenEndpoint: `${issuer}/token` });
        if (refused) return json(res, 401, { error: 'invalid_client', error_description: refused });
        const grant = pending.get(form.get('code') ?? '');
        pending.delete(form.get('code') ?? '');
        if (!grant || grant.name !== name) return json(res, 400, { error: 'invalid_grant' });
        const verifier = form.get('code_verifier') ?? '';
        if (b64u(createHash('sha256').update(verifier).digest()) !== grant.challenge) {
          return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        }
        const now = Math.floor(Date.now() / 1000);
        const ctx: TokenContext = { issuer, clientId: grant.clientId, nonce: grant.nonce, keys, clientSecret };
        let claims: Record<string, unknown> = {
          iss: issuer,
          sub: 'rogue-user-1',
          aud: grant.clientId,
          exp: now + 300,
          iat: now,
          nonce: grant.nonce,
          email: 'rogue@rogue.example',
          email_verified: true,
          name: 'Rogue User',
        };
        if (behaviour.claims) claims = behaviour.claims(claims, ctx);
        const idToken = behaviour.idToken ? await behaviour.idToken(claims, ctx) : await rs256(claims, keys.current);
        const tokens = {
          access_token: `at-${randomBytes(8).toString('hex')}`,
          token_type: 'Bearer',
          expires_in: 300,
          id_token: idToken,
        };
        issued.push(tokens.access_token, idToken);
        if (behaviour.token && (await behaviour.token(res, tokens))) return;
        return json(res, 200, tokens);
      }
      if (endpoint === 'jwks') {
        const served = behaviour.jwks
          ? behaviour.jwks(keys, hits.get(`${name}/jwks`) ?? 1)
          : { keys: [keys.current.publicJwk] };
        if (typeof served === 'function') return served(res);
        return json(res, 200, served);
      }
      if (endpoint === 'userinfo') {
        const claims = { sub: 'rogue-user-1', email: 'rogue@rogue.example', email_verified: true };
        const served = behaviour.userinfo ? behaviour.userinfo(claims) : claims;
        if (typeof served === 'function') return served(res);
        return json(res, 200, served);
      }
      json(res, 404, { error: 'not found' });
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const issuerOf = (name: string) =>
    `${base}/${name}${behaviours[name]?.basePath ? `/${behaviours[name]!.basePath}` : ''}`;
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return { base, port, dropConnections, issuer: issuerOf, keys, clientSecret, hits, issued };
}

/** Encodes a JWS by hand, for tokens no library would make (alg none, HS256 with a public key). */
export function handMadeJws(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  sign: (input: string) => Buffer | string,
) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const signature = sign(input);
  return `${input}.${typeof signature === 'string' ? signature : b64u(signature)}`;
}

const signOffTheLoop = promisify(signWithCallback);

/**
 * An RS256 JWS signed by node:crypto with any RSA private key, whatever its size (jose refuses
 * to sign with one under 2048 bits), under `header` (`alg` RS256 unless the header says
 * otherwise). Signed on the thread pool: an 8192-bit signature would otherwise stall the
 * test process, which the broker shares.
 */
export async function signWithAnyKey(
  claims: Record<string, unknown>,
  privateKey: KeyObject,
  header: Record<string, unknown>,
): Promise<string> {
  const input = `${b64u(JSON.stringify({ alg: 'RS256', ...header }))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(await signOffTheLoop('sha256', Buffer.from(input), privateKey))}`;
}

/**
 * A provider with hostile key material: it serves `jwks` as its JWKS — any JSON value, or a
 * body already serialised (`raw`: megabytes, say) sent with or without a Content-Length — and
 * makes the ID token with `idToken` (signWithAnyKey, handMadeJws, a forged signature…).
 */
export function hostileKeys(options: {
  jwks: unknown;
  raw?: { body: Buffer; contentLength: boolean };
  idToken: (claims: Record<string, unknown>, ctx: TokenContext) => Promise<string> | string;
}): Behaviour {
  const body = options.raw?.body ?? Buffer.from(JSON.stringify(options.jwks));
  const headers = {
    'content-type': 'application/json',
    ...((options.raw?.contentLength ?? true) && { 'content-length': String(body.length) }),
  };
  return {
    idToken: options.idToken,
    jwks: () => (res) => void res.writeHead(200, headers).end(body),
  };
}

/**
 * The mix-up attacker's IdP (RFC 9700 §4.4): discovery and keys like any IdP; once it holds an
 * authorization request stolen from the attacker's own session at the victim's IdP
 * (`state.stolen`), its authorization endpoint bounces every browser there with that request
 * and the browser's own `state`; its token endpoint collects whatever codes reach it.
 */
export async function startMixUpAttackerIdp(tap: { teardown(fn: () => unknown): void }) {
  const state = { stolen: undefined as URL | undefined, codesReceived: [] as string[] };
  const rogue = await startRogueIdp(tap, {
    attacker: {
      authorize: (res, params) => {
        if (!state.stolen) return false;
        // Into the victim's IdP with the attacker's own session's request, but the victim's state.
        const bounce = new URL(state.stolen);
        bounce.searchParams.set('state', params.get('state') ?? '');
        res.writeHead(302, { location: bounce.href }).end();
        return true;
      },
      clientAuth: (form) => {
        const code = form.get('code');
        if (code) state.codesReceived.push(code);
        return undefined;
      },
    },
  });
  return {
    issuer: rogue.issuer('attacker'),
    clientSecret: rogue.clientSecret,
    state,
    tokenRequests: () => rogue.hits.get('attacker/token') ?? 0,
  };
}
