import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBrokerKey } from '../../src/config/generate-broker-key.js';
import { packageRoot } from '../../src/config/local.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { startDemoApp } from './demo-app.js';
import { demoIdpIssuer, startDemoIdp, type DemoUser } from './demo-idp.js';

/**
 * The whole product on one machine, wired the way an operator would: an embedded PostgreSQL,
 * the compiled broker in its own process (production code, production settings), one
 * identity provider per organisation, and a relying app. Tenants, connections and the app are
 * registered through the broker's admin API — the demo has no way in that production lacks.
 */
export interface DemoPorts {
  broker: number;
  app: number;
  acmeIdp: number;
  globexIdp: number;
  /** The IdP of the organisation still to onboard, through its setup link. */
  initechIdp: number;
}

export interface Demo {
  appUrl: string;
  brokerUrl: string;
  adminToken: string;
  appId: string;
  /** Each organisation with its IdP and its connection's id (its setup page: /api/sso/setup?connection=<id>). */
  organisations: {
    slug: string;
    name: string;
    tenantUrl: string;
    issuer: string;
    connection: string;
    users: DemoUser[];
  }[];
  /** An organisation not connected yet: its setup link, and what its IdP handed out. */
  onboarding: {
    slug: string;
    name: string;
    setupLink: string;
    issuer: string;
    clientId: string;
    clientSecret: string;
    users: DemoUser[];
  };
  stop(): Promise<void>;
}

export const DEMO_PASSWORD = 'demo-password';

const user = (sub: string, email: string, givenName: string, familyName: string, groups: string[]): DemoUser => ({
  sub,
  email,
  password: DEMO_PASSWORD,
  name: `${givenName} ${familyName}`,
  givenName,
  familyName,
  groups,
});

const ORGANISATIONS = [
  {
    slug: 'acme',
    name: 'Acme Corp',
    domain: 'acme.example',
    colour: '#b3261e',
    users: [
      user('acme-0001', 'ada@acme.example', 'Ada', 'Lovelace', ['teachers']),
      user('acme-0002', 'grace@acme.example', 'Grace', 'Hopper', ['learners']),
    ],
  },
  {
    slug: 'globex',
    name: 'Globex Corporation',
    domain: 'globex.example',
    colour: '#1e6b3a',
    users: [
      user('globex-0001', 'hank@globex.example', 'Hank', 'Scorpio', ['managers']),
      user('globex-0002', 'lin@globex.example', 'Lin', 'Bauer', ['learners']),
    ],
  },
] as const;

const INITECH = {
  slug: 'initech',
  name: 'Initech',
  domain: 'initech.example',
  colour: '#5b3a8c',
  users: [user('initech-0001', 'peter@initech.example', 'Peter', 'Gibbons', ['learners'])],
} as const;

export async function startDemo(ports: DemoPorts, log: (line: string) => void = () => {}): Promise<Demo> {
  const main = join(packageRoot(), 'dist/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm run demo does)`);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => {});
  };
  try {
    const work = await mkdtemp(join(tmpdir(), 'sso-demo-'));
    await chmod(work, 0o711); // PostgreSQL runs as its own user when we are root
    stops.push(() => rm(work, { recursive: true, force: true }));

    log('starting PostgreSQL (embedded)…');
    const database = await startEmbeddedPostgres({ dataDir: join(work, 'db'), persistent: false });
    stops.push(() => database.stop());

    const keysDir = join(work, 'keys');
    await generateBrokerKey(keysDir, { kid: 'demo-broker-key' });
    // Tenants live on subdomains of sso.localhost (acme.sso.localhost), which browsers resolve
    // to this machine; the login cookie is then set for sso.localhost, the callback's host. (A
    // cookie for plain "localhost" would be refused: it needs a dot, as a real domain has.)
    const brokerUrl = `http://sso.localhost:${ports.broker}`;
    const adminToken = randomBytes(24).toString('base64url');
    log('starting the broker…');
    const broker = await startBroker(main, {
      DATABASE_URL: database.url,
      SECRET_KEY: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN: adminToken,
      PUBLIC_URL: brokerUrl,
      HOST: '127.0.0.1',
      PORT: String(ports.broker),
      TENANT_DOMAIN: 'sso.localhost',
      KEYS_DIR: keysDir,
      LOG_LEVEL: 'warn',
      // The organisations' IdPs and the demo app's webhook endpoint run on this machine, over
      // http: allow loopback explicitly.
      IDP_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
      WEBHOOK_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
    });
    stops.push(() => stopProcess(broker));

    const admin = async (path: string, body: unknown) => {
      const response = await fetch(`http://127.0.0.1:${ports.broker}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as Record<string, string>;
      if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    const brokerJwks = (await (await fetch(`http://127.0.0.1:${ports.broker}/.well-known/jwks.json`)).json()) as {
      keys: object[];
    };

    log('registering the organisations and starting their identity providers…');
    const acmeSecret = randomBytes(24).toString('base64url');
    const idpPorts = { acme: ports.acmeIdp, globex: ports.globexIdp };
    const connections: Record<string, string> = {};
    for (const org of ORGANISATIONS) {
      // As an operator and an IdP engineer would: the connection first, for its own redirect
      // URI; then the IdP registers exactly that URI. Acme's IdP takes a client secret;
      // Globex's trusts the broker's key (private_key_jwt).
      const issuer = demoIdpIssuer(idpPorts[org.slug]);
      await admin('/admin/tenants', { slug: org.slug, name: org.name, domains: [org.domain] });
      // As an operator who knows the organisation: its domain verified without DNS (force).
      await admin(`/admin/tenants/${org.slug}/domains/${org.domain}/verify`, { force: true });
      const connection = await admin(`/admin/tenants/${org.slug}/connections`, {
        issuer,
        clientId: 'sso-broker',
        ...(org.slug === 'acme'
          ? { tokenEndpointAuthMethod: 'client_secret_post', clientSecret: acmeSecret }
          : { tokenEndpointAuthMethod: 'private_key_jwt' }),
      });
      connections[org.slug] = connection.id!;
      const callback = {
        redirectUri: connection.redirectUri!,
        postLogoutRedirectUri: `${brokerUrl}/api/sso/logout/done`,
      };
      const idp = await startDemoIdp({
        port: idpPorts[org.slug],
        organisation: org.name,
        colour: org.colour,
        users: [...org.users],
        // Acme's IdP engineer also registered the back-channel logout URI (Globex's did not).
        ...(org.slug === 'acme' && { backchannelLogoutUri: connection.backchannelLogoutUri! }),
        client:
          org.slug === 'acme'
            ? { clientId: 'sso-broker', method: 'client_secret_post', clientSecret: acmeSecret, ...callback }
            : { clientId: 'sso-broker', method: 'private_key_jwt', jwks: brokerJwks, ...callback },
      });
      stops.push(() => idp.close());
      if (idp.issuer !== issuer) throw new Error(`the demo IdP's issuer is ${idp.issuer}, not ${issuer}`);
    }

    // A third organisation is not connected yet: its IdP engineer has a setup link. Its IdP
    // already has a client for the redirect URI the link shows (the link reserves the connection).
    log('creating a setup link for Initech, not connected yet…');
    await admin('/admin/tenants', { slug: INITECH.slug, name: INITECH.name, domains: [INITECH.domain] });
    await admin(`/admin/tenants/${INITECH.slug}/domains/${INITECH.domain}/verify`, { force: true });
    const link = await admin(`/admin/tenants/${INITECH.slug}/setup-links`, { note: 'demo: Initech IT' });
    const initechSecret = randomBytes(24).toString('base64url');
    const initechIdp = await startDemoIdp({
      port: ports.initechIdp,
      organisation: INITECH.name,
      colour: INITECH.colour,
      users: [...INITECH.users],
      client: {
        clientId: 'sso-broker',
        method: 'client_secret_post',
        clientSecret: initechSecret,
        redirectUri: `${brokerUrl}/api/sso/callback/${link.connection}`,
        postLogoutRedirectUri: `${brokerUrl}/api/sso/logout/done`,
      },
    });
    stops.push(() => initechIdp.close());

    log('starting the demo app…');
    const appUrl = `http://localhost:${ports.app}`;
    const registered = await admin('/admin/apps', {
      name: 'Demo learning portal',
      returnUrls: [`${appUrl}/sso/done`, `${appUrl}/`],
    });
    // The app hears when a learner's session ends at their organisation (session.ended).
    const webhook = await admin('/admin/webhooks', {
      url: `${appUrl}/sso/events`,
      events: ['session.ended'],
      app: registered.id,
      description: 'Demo learning portal: sign learners out when their organisation does',
    });
    const app = await startDemoApp({
      webhookSecret: webhook.secret!,
      port: ports.app,
      brokerUrl,
      brokerApiUrl: `http://127.0.0.1:${ports.broker}`,
      tenantUrl: (slug) => `http://${slug}.sso.localhost:${ports.broker}`,
      app: { id: registered.id!, secret: registered.secret! },
      organisations: [...ORGANISATIONS, INITECH].map(({ slug, name }) => ({ slug, name })),
    });
    stops.push(() => app.close());

    return {
      appUrl,
      brokerUrl,
      adminToken,
      appId: registered.id!,
      organisations: ORGANISATIONS.map((org) => ({
        slug: org.slug,
        name: org.name,
        tenantUrl: `http://${org.slug}.sso.localhost:${ports.broker}`,
        issuer: demoIdpIssuer(idpPorts[org.slug]),
        connection: connections[org.slug]!,
        users: [...org.users],
      })),
      onboarding: {
        slug: INITECH.slug,
        name: INITECH.name,
        setupLink: link.url!,
        issuer: initechIdp.issuer,
        clientId: 'sso-broker',
        clientSecret: initechSecret,
        users: [...INITECH.users],
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function startBroker(main: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((ready, fail) => {
    const onExit = (code: number | null) => fail(new Error(`the broker exited (${code}) before it was ready`));
    child.once('exit', onExit);
    const poll = async () => {
      const ok = await fetch(`http://127.0.0.1:${env.PORT}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        child.off('exit', onExit);
        ready(child);
      } else setTimeout(() => void poll(), 100);
    };
    void poll();
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}
