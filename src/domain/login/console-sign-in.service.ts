import { BrokerError } from '../../errors/broker-error.js';
import type { MappedIdentity } from '../../oidc/identity.js';
import type { ConfigCache } from '../live-config/config-cache.js';
import { isPinned, type ConsolePin } from './console-pin.js';
import type { ConsoleGrounds } from './console-session.repo.js';
import type { LoginCallbackService } from './login-callback.service.js';
import type { BrowserContext, LoginStartService, StartResult } from './login-start.service.js';
import type { LoginTransaction } from './login-transaction.js';

/** Whether CONSOLE_ADMINS lets this identity in: a verified email it lists, or a `group:<value>` it has. */
export function isConsoleAdmin(
  admins: readonly string[],
  identity: Pick<MappedIdentity, 'email' | 'emailVerified' | 'groups'>,
): boolean {
  const email = identity.emailVerified === true ? identity.email?.toLowerCase() : undefined;
  return admins.some((entry) =>
    entry.startsWith('group:')
      ? identity.groups.includes(entry.slice('group:'.length))
      : email !== undefined && entry.toLowerCase() === email,
  );
}

export type SsoGrounds = Extract<ConsoleGrounds, { method: 'sso' }>;

/** A completed console sign-in through SSO: who, and on what grounds. */
export interface ConsoleSsoSignIn {
  actor: string;
  grounds: SsoGrounds;
}

/**
 * The console's sign-in through the broker's own SSO (CONSOLE_TENANT, CONSOLE_ADMINS): a login
 * at that tenant's default connection, checked by the same callback pipeline as any learner's,
 * that ends in a console session instead of a ticket — for the operators CONSOLE_ADMINS lists,
 * signed in by a pinned issuer (console-pin.ts): whoever repoints the tenant's connection at
 * another IdP gets its users into apps, not into the console.
 */
export class ConsoleSignIn {
  constructor(
    private readonly deps: {
      tenantSlug: string | undefined;
      admins: readonly string[];
      tenants: Pick<ConfigCache['tenants'], 'findBySlug'>;
      connections: Pick<ConfigCache['connections'], 'findDefaultEnabled'>;
      pin: Pick<ConsolePin, 'issuers'>;
      start: Pick<LoginStartService, 'begin'>;
      callback: Pick<LoginCallbackService, 'verify'>;
      log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
    },
  ) {}

  /** The tenant whose users may sign in, when CONSOLE_TENANT is set. */
  get tenant(): string | undefined {
    return this.deps.tenantSlug;
  }

  async start(browser: BrowserContext): Promise<StartResult> {
    const slug = this.deps.tenantSlug;
    if (slug === undefined) throw new BrokerError('not_found', { description: 'CONSOLE_TENANT is not set.' });
    const tenant = await this.deps.tenants.findBySlug(slug);
    const connection = tenant && (await this.deps.connections.findDefaultEnabled(tenant.id));
    if (!tenant || !connection) throw new BrokerError('no_connection');
    // Nothing pinned: nobody could be let in at the end, so nobody is sent to the IdP.
    if ((await this.deps.pin.issuers()).length === 0) {
      this.deps.log.warn(
        { tenant: slug },
        'console: SSO sign-in refused: no issuer is pinned ' +
          '(set CONSOLE_ISSUER, or restart once CONSOLE_TENANT has a connection)',
      );
      throw this.#notPinned();
    }
    return this.deps.start.begin({ tenant, connection, purpose: { kind: 'console' }, browser });
  }

  /**
   * The signed-in operator (their email, else their login) and what admitted them — kept with
   * the session, which lasts only while `admits` says it still would; or access_denied.
   */
  async complete(tx: LoginTransaction, query: Record<string, unknown>, callbackUrl: URL): Promise<ConsoleSsoSignIn> {
    const { tenant, connection, result, identity } = await this.deps.callback.verify(tx, query, callbackUrl);
    const pinned = await this.deps.pin.issuers();
    if (tenant.slug !== this.deps.tenantSlug || !isPinned(pinned, result.claims.iss)) {
      this.deps.log.warn(
        { tenant: tenant.slug, issuer: result.claims.iss, pinned, login: identity.login },
        'console: sign-in refused (not from a pinned issuer: CONSOLE_ISSUER, or the one pinned at start-up)',
      );
      throw this.#notPinned();
    }
    if (!isConsoleAdmin(this.deps.admins, identity)) {
      this.deps.log.warn(
        { tenant: tenant.slug, login: identity.login },
        'console: sign-in refused (not in CONSOLE_ADMINS)',
      );
      throw new BrokerError('access_denied', {
        description: 'Your account may not use the console. Ask its operators to add you to CONSOLE_ADMINS.',
      });
    }
    const actor = identity.email ?? identity.login;
    this.deps.log.info({ actor, tenant: tenant.slug }, 'console: signed in through SSO');
    const grounds: SsoGrounds = {
      method: 'sso',
      tenant: tenant.slug,
      email: identity.emailVerified === true && identity.email !== undefined ? identity.email.toLowerCase() : null,
      // Only the groups that let them in: enough to ask again, and bounded by CONSOLE_ADMINS.
      groups: identity.groups.filter((group) => this.deps.admins.includes(`group:${group}`)),
      issuers: [...new Set([result.claims.iss, connection.issuer])],
    };
    return { actor, grounds };
  }

  /**
   * Whether an SSO session's grounds would still let it in now: the same CONSOLE_TENANT, an
   * email or group CONSOLE_ADMINS still lists, an issuer still pinned. Asked on every console
   * request, so a changed list ends the sessions it no longer allows.
   */
  async admits(grounds: SsoGrounds): Promise<boolean> {
    if (grounds.tenant !== this.deps.tenantSlug) return false;
    const identity = {
      email: grounds.email ?? undefined,
      emailVerified: grounds.email !== null,
      groups: grounds.groups,
    };
    if (!isConsoleAdmin(this.deps.admins, identity)) return false;
    const pinned = await this.deps.pin.issuers();
    return grounds.issuers.some((issuer) => isPinned(pinned, issuer));
  }

  #notPinned(): BrokerError {
    return new BrokerError('access_denied', {
      description:
        'The console does not accept sign-ins from this identity provider. Its operators choose which one it does ' +
        '(CONSOLE_ISSUER).',
    });
  }
}
