import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import t from 'tap';
import type { IdpLookup } from '../../src/oidc/network-policy.js';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, hiddenInputs } from '../helpers/browser.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';

// A setup link's holder is outside the operators and can type any issuer: the validation
// report of their draft must not make the broker a port scanner or a resolver of internal
// names. Whatever an issuer's address does — refused by the network policy, resolving to a
// private address, a closed port, an open one that answers no document, one that never
// answers — the holder reads the same words, with no address and no connection error. The
// operators' report (admin API) still says which. Only loopback is contacted; 127.0.0.9 and
// the unresolvable name are answers of the injected resolver, refused before any connection.

type Teardown = { teardown(fn: () => unknown): void };
type Tap = Pick<typeof t, 'equal'>;

/** A TCP port on `host`: answering HTTP 404, accepting and never answering, or closed. */
async function port(tap: Teardown, host: string, kind: 'http' | 'silent' | 'closed'): Promise<number> {
  const server: Server =
    kind === 'http' ? createHttpServer((_req, res) => res.writeHead(404).end('nothing here')) : createServer(() => {});
  // Closing waits for open connections (the broker keeps IdP connections alive): end them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  if (kind === 'closed') await close();
  else tap.teardown(close);
  return port;
}

const resolver = new Map([['intranet.test', '127.0.0.9']]);
const lookup: IdpLookup = async (hostname) => {
  const address = resolver.get(hostname);
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address, family: 4 }];
};

// 127.0.0.3 is where the operators allow IdPs (as a company network would be); 127.0.0.2 and
// 127.0.0.9 are not.
const broker = await startBroker(
  t,
  { idpPrivateNetworks: ['127.0.0.1/32', '127.0.0.3/32'], idpTimeoutSeconds: 1 },
  { idpLookup: lookup },
);

/** The validation report on the holder's page after saving a draft with `issuer`, as text. */
async function holderReport(t: Tap, slug: string, issuer: string) {
  t.equal((await broker.admin('POST', '/admin/tenants', { slug, name: slug })).status, 201);
  const link = await broker.admin('POST', `/admin/tenants/${slug}/setup-links`, {});
  const browser = new TestBrowser();
  const page = await browser.request(`${link.body.url}?idp=other&method=client_secret_post`);
  const saved = await browser.request(`${link.body.url}/draft`, {
    form: {
      ...hiddenInputs(await page.text()),
      issuer,
      clientId: 'client',
      clientSecret: 'secret',
      tokenEndpointAuthMethod: 'client_secret_post',
    },
  });
  t.equal(saved.status, 303, `${slug}: the draft is saved`);
  const html = await (await browser.request(new URL(saved.headers.get('location')!, link.body.url).href)).text();
  const box = /<div class="box (?:good|err)" role="status">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  const text = box
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { text, connection: link.body.connection as string };
}

/** The operators' report of the same draft (admin API), by check. */
async function operatorsReport(t: Tap, connection: string) {
  const answer = await broker.admin('POST', `/admin/connections/${connection}/versions/1/validate`);
  t.equal(answer.status, 200);
  return Object.fromEntries(
    (answer.body.checks as { id: string; message: string }[]).map((check) => [check.id, check.message]),
  );
}

t.test('a setup-link holder cannot tell open ports from closed ones, nor where internal names lead', async (t) => {
  const cases = {
    'closed port, not allowed': `http://127.0.0.2:${await port(t, '127.0.0.2', 'closed')}`,
    'open port, not allowed': `http://127.0.0.2:${await port(t, '127.0.0.2', 'http')}`,
    'internal name (resolves to a private address)': 'https://intranet.test',
    'name that resolves to nothing': 'https://nowhere.test',
    'closed port, allowed': `http://127.0.0.3:${await port(t, '127.0.0.3', 'closed')}`,
    'open port answering no document, allowed': `http://127.0.0.3:${await port(t, '127.0.0.3', 'http')}`,
    'port that never answers, allowed': `http://127.0.0.3:${await port(t, '127.0.0.3', 'silent')}`,
  };
  const reports = new Map<string, { text: string; connection: string }>();
  let n = 0;
  for (const [name, issuer] of Object.entries(cases)) reports.set(name, await holderReport(t, `probe-${++n}`, issuer));

  const texts = [...reports.values()].map((report) => report.text);
  t.match(texts[0], 'some checks failed');
  t.match(texts[0], 'the discovery document could not be fetched: not allowed by the network policy');
  t.same(new Set(texts).size, 1, 'every holder reads the same report, word for word');
  for (const [name, { text }] of reports) {
    t.notMatch(text, /127\.0\.0\.\d|:\d{2,5}\b/, `${name}: no address, no port`);
    t.notMatch(text, /refused|ECONN|ENOTFOUND|resolves|timeout|in time|HTTP \d{3}|IDP_PRIVATE_NETWORKS/i, name);
  }

  // The operators' report says which, for each.
  const discovery = async (name: string) =>
    (await operatorsReport(t, reports.get(name)!.connection)).discovery_reachable;
  t.match(await discovery('closed port, not allowed'), /127\.0\.0\.2 is a loopback address not listed/);
  t.match(await discovery('internal name (resolves to a private address)'), 'intranet.test resolves to 127.0.0.9');
  t.match(await discovery('name that resolves to nothing'), 'ENOTFOUND');
  t.match(await discovery('closed port, allowed'), 'ECONNREFUSED');
  t.match(await discovery('open port answering no document, allowed'), 'answered HTTP 404');
  t.match(await discovery('port that never answers, allowed'), 'no answer in time');
});

t.test('nor through the endpoints of a discovery document the holder controls', async (t) => {
  const closed = await port(t, '127.0.0.3', 'closed');
  const rogue = await startRogueIdp(t, {
    pointing: {
      discovery: (doc) => ({
        ...doc,
        token_endpoint: 'https://intranet.test/token',
        jwks_uri: `http://127.0.0.3:${closed}/jwks`,
      }),
    },
  });
  const { text, connection } = await holderReport(t, 'probe-endpoints', rogue.issuer('pointing'));
  t.match(text, 'token_endpoint: not allowed by the network policy');
  t.match(text, 'the JWKS could not be fetched: not allowed by the network policy');
  t.notMatch(text, /127\.0\.0\.[39]|intranet|resolves|ECONN/, 'no address, no name, no connection error');
  const operators = await operatorsReport(t, connection);
  t.match(operators.endpoints_present, 'intranet.test resolves to 127.0.0.9');
  t.match(operators.jwks_reachable, 'ECONNREFUSED');
});
