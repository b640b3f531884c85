/**
 * The benchmark's IdP, in its own process: as cheap as an OpenID provider can honestly be, so
 * that the numbers are the broker's. Authorization is automatic (302 straight back with a
 * code); the token endpoint checks PKCE (S256) and the client — the secret for
 * client_secret_post, the RS256 assertion against the broker's JWKS for private_key_jwt — and
 * signs a fresh ID token (RS256, node:crypto) with the login's nonce.
 *
 * Run by scripts/bench/run.ts: `node stub-idp.js <port> <broker JWKS URL> <client secret>`;
 * prints "ready" once listening.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const [portArg, brokerJwksUrl, clientSecret] = process.argv.slice(2);
const port = Number(portArg);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'stub-1', alg: 'RS256', use: 'sig' };
const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'stub-1', typ: 'JWT' })).toString('base64url');

const discovery = JSON.stringify({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  response_types_supported: ['code'],
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: ['RS256'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
});
const jwks = JSON.stringify({ keys: [jwk] });

interface Grant {
  clientId: string;
  nonce: string;
  challenge: string;
  at: number;
}
const grants = new Map<string, Grant>();
// Codes live 60 s; a sweep keeps the map bounded however long the soak runs.
setInterval(() => {
  const cutoff = Date.now() - 60_000;
  for (const [code, grant] of grants) if (grant.at < cutoff) grants.delete(code);
}, 10_000).unref();

let brokerKeys: Map<string, KeyObject> | undefined;
async function brokerKey(kid: string): Promise<KeyObject | undefined> {
  if (!brokerKeys?.has(kid)) {
    const fetched = (await (await fetch(brokerJwksUrl!)).json()) as {
      keys: (Record<string, string> & { kid: string })[];
    };
    brokerKeys = new Map(
      fetched.keys.map((k) => [k.kid, createPublicKey({ key: { kty: k.kty, n: k.n, e: k.e }, format: 'jwk' })]),
    );
  }
  return brokerKeys.get(kid);
}

const b64json = (part: string | undefined) =>
  JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** RFC 7523 §3: RS256 by a broker key, iss = sub = client id, aud = the token endpoint, not expired. */
async function assertionProblem(assertion: string, clientId: string): Promise<string | undefined> {
  const [h, p, s] = assertion.split('.');
  const head = b64json(h);
  const claims = b64json(p);
  if (head.alg !== 'RS256') return 'alg';
  const key = await brokerKey(String(head.kid));
  if (!key || !verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s ?? '', 'base64url'))) return 'signature';
  if (claims.iss !== clientId || claims.sub !== clientId || claims.aud !== `${issuer}/token`) return 'claims';
  if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return 'expired';
  return undefined;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res
    .writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    .end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

async function token(req: IncomingMessage, res: ServerResponse) {
  const form = new URLSearchParams(await readBody(req));
  const code = form.get('code') ?? '';
  const grant = grants.get(code);
  grants.delete(code);
  if (!grant) return send(res, 400, '{"error":"invalid_grant"}');
  const verifier = createHash('sha256')
    .update(form.get('code_verifier') ?? '')
    .digest('base64url');
  if (verifier !== grant.challenge) return send(res, 400, '{"error":"invalid_grant","error_description":"PKCE"}');
  const assertion = form.get('client_assertion');
  const clientOk = assertion
    ? (await assertionProblem(assertion, grant.clientId)) === undefined
    : form.get('client_secret') === clientSecret && form.get('client_id') === grant.clientId;
  if (!clientOk) return send(res, 401, '{"error":"invalid_client"}');
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(
    JSON.stringify({
      iss: issuer,
      sub: 'bench-user-1',
      aud: grant.clientId,
      exp: now + 300,
      iat: now,
      nonce: grant.nonce,
      // The IdP session, as IdPs with back-channel logout send it (the webhook phase ends one).
      sid: randomBytes(9).toString('base64url'),
      email: 'learner@bench.example',
      email_verified: true,
      name: 'Bench Learner',
    }),
  ).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
  send(
    res,
    200,
    JSON.stringify({
      access_token: randomBytes(16).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 300,
      id_token: `${header}.${payload}.${signature}`,
    }),
  );
}

/** `POST /logout-token` {aud, sid}: a logout token for that session, as this IdP would send it. */
async function logoutToken(req: IncomingMessage, res: ServerResponse) {
  const { aud, sid } = JSON.parse(await readBody(req)) as { aud: string; sid: string };
  const payload = Buffer.from(
    JSON.stringify({
      iss: issuer,
      aud,
      iat: Math.floor(Date.now() / 1000),
      jti: randomBytes(12).toString('base64url'),
      sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    }),
  ).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
  send(res, 200, JSON.stringify({ logout_token: `${header}.${payload}.${signature}` }));
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/logout-token' && req.method === 'POST') return void logoutToken(req, res);
  if (url.startsWith('/authorize?')) {
    const q = new URLSearchParams(url.slice('/authorize?'.length));
    const code = randomBytes(16).toString('base64url');
    grants.set(code, {
      clientId: q.get('client_id') ?? '',
      nonce: q.get('nonce') ?? '',
      challenge: q.get('code_challenge') ?? '',
      at: Date.now(),
    });
    const back = `${q.get('redirect_uri')}?code=${code}&state=${encodeURIComponent(q.get('state') ?? '')}`;
    res.writeHead(302, { location: back, 'content-length': 0 }).end();
    return;
  }
  if (url === '/token' && req.method === 'POST') {
    token(req, res).catch((error: unknown) => send(res, 500, JSON.stringify({ error: String(error) })));
    return;
  }
  if (url === '/.well-known/openid-configuration') return send(res, 200, discovery);
  if (url === '/jwks') return send(res, 200, jwks);
  send(res, 404, '{"error":"not_found"}');
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
