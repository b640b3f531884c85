/**
 * The reference relying party for `npm run bench`: Apache httpd with mod_auth_openidc (Debian's
 * `apache2` and `libapache2-mod-auth-openidc`), a certified C relying party with no database.
 * It runs from its own ServerRoot, PidFile and logs under the bench's work directory, against
 * the same stub IdP as the broker, with the same PKCE (S256), nonce, state and client
 * authentication, and its flow ends at a protected page: the same complete login.
 *
 *   browser: GET /protected/page → 302 to the IdP (+ a state cookie)
 *            GET <IdP>/authorize → 302 to /protected/redirect_uri
 *            GET /protected/redirect_uri (state cookie) → token request, ID token checks,
 *                session → 302 to /protected/page (+ the session cookie)
 *            GET /protected/page (session cookie) → 200
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/** Why the reference cannot run here, or undefined when it can. */
export function referenceMissing(): string | undefined {
  if (!existsSync(APACHE)) return `${APACHE} is not installed (apt-get install apache2)`;
  if (!existsSync(join(MODULES, 'mod_auth_openidc.so'))) {
    return 'mod_auth_openidc is not installed (apt-get install libapache2-mod-auth-openidc)';
  }
  return undefined;
}

export interface ReferenceRp {
  origin: string;
  /** The Apache parent process: its tree is the reference's CPU. */
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export async function startReferenceRp(options: {
  dir: string;
  port: number;
  idpIssuer: string;
  clientId: string;
  method: 'client_secret_post' | 'private_key_jwt';
  clientSecret: string;
  /**
   * For private_key_jwt: the broker's key (PEM), its certificate and kid, which the stub IdP
   * knows from the broker's JWKS.
   */
  key: { kid: string; file: string; certificate: string };
  /** false: no access log (the broker writes one line per request; this shows the reference without). */
  accessLog?: boolean;
}): Promise<ReferenceRp> {
  const { dir, port } = options;
  await mkdir(join(dir, 'htdocs', 'protected'), { recursive: true });
  await mkdir(join(dir, 'run'), { recursive: true });
  // Apache's children run as www-data; they read the page and the key, and write nothing here.
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'htdocs', 'protected', 'page'), 'signed in\n');
  const origin = `http://127.0.0.1:${port}`;
  // Its own copy of the key, as PKCS #1 (cjose's form), readable by the workers.
  const keyFile = join(dir, 'client-key.pem');
  const pkcs1 = createPrivateKey(await readFile(options.key.file)).export({ type: 'pkcs1', format: 'pem' });
  await writeFile(keyFile, pkcs1, { mode: 0o644 });
  // mod_auth_openidc 2.4.12 crashes signing an assertion unless the key's public half is
  // configured too (OIDCPublicKeyFiles).
  const certificateFile = join(dir, 'client-cert.pem');
  await writeFile(certificateFile, await readFile(options.key.certificate), { mode: 0o644 });
  const auth =
    options.method === 'client_secret_post'
      ? [`OIDCClientSecret ${options.clientSecret}`, 'OIDCProviderTokenEndpointAuth client_secret_post']
      : [
          `OIDCPrivateKeyFiles ${options.key.kid}#${keyFile}`,
          `OIDCPublicKeyFiles ${options.key.kid}#${certificateFile}`,
          'OIDCProviderTokenEndpointAuth private_key_jwt',
        ];
  const conf = [
    `ServerRoot ${dir}`,
    `DefaultRuntimeDir ${join(dir, 'run')}`,
    `PidFile ${join(dir, 'run', 'httpd.pid')}`,
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    'User www-data',
    'Group www-data',
    ...['mpm_event', 'authz_core', 'authz_user', 'authn_core', 'auth_openidc'].map(
      (m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`,
    ),
    // As many workers as the driver has browsers, kept alive like the broker's connections.
    'StartServers 2',
    'ThreadsPerChild 32',
    'MaxRequestWorkers 64',
    'MinSpareThreads 16',
    'MaxSpareThreads 64',
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    'KeepAliveTimeout 60',
    `ErrorLog ${join(dir, 'error.log')}`,
    'LogLevel warn',
    // An access line per request, as the broker writes one (mod_log_config is built in), unless
    // the run asks for the reference without it (--reference-log off).
    ...(options.accessLog === false
      ? []
      : ['LogFormat "%h %t \\"%m %U\\" %>s %D" short', `CustomLog ${join(dir, 'access.log')} short`]),
    `DocumentRoot ${join(dir, 'htdocs')}`,
    `OIDCProviderMetadataURL ${options.idpIssuer}/.well-known/openid-configuration`,
    `OIDCClientID ${options.clientId}`,
    ...auth,
    `OIDCRedirectURI ${origin}/protected/redirect_uri`,
    `OIDCCryptoPassphrase ${randomBytes(24).toString('base64url')}`,
    'OIDCPKCEMethod S256',
    'OIDCScope "openid email profile"',
    'OIDCRemoteUserClaim sub',
    'OIDCSSLValidateServer Off',
    '<Location /protected/>',
    '  AuthType openid-connect',
    '  Require valid-user',
    '</Location>',
    '',
  ].join('\n');
  const confFile = join(dir, 'httpd.conf');
  await writeFile(confFile, conf);
  const check = spawnSync(APACHE, ['-t', '-f', confFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`apache2 -t: ${check.stderr}`);
  const version = /Apache\/[\d.]+/.exec(spawnSync(APACHE, ['-v'], { encoding: 'utf8' }).stdout)?.[0] ?? 'Apache';
  const child: ChildProcess = spawn(APACHE, ['-f', confFile, '-DFOREGROUND'], {
    env: { PATH: process.env.PATH ?? '', LANG: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`apache2 exited ${child.exitCode}: ${stderr}`);
    const up = await fetch(`${origin}/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 100) throw new Error(`apache2 did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    origin,
    pid: child.pid!,
    version,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
