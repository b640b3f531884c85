import type { ConsolePinRepo } from './console-pin.repo.js';

/**
 * Which issuers may sign operators in to the console (CONSOLE_TENANT): CONSOLE_ISSUER when set,
 * else those of CONSOLE_TENANT's connections the first time the broker started with it, kept
 * in PostgreSQL so that every replica, and every later start, uses the same. A later change of
 * the tenant's connections does not move the pin: an IdP that tenant's connection is pointed at
 * signs its users in to apps, never to the console, until an operator sets CONSOLE_ISSUER.
 */
export class ConsolePin {
  #issuers: readonly string[] | undefined;
  #loading: Promise<readonly string[]> | undefined;

  constructor(
    private readonly deps: {
      tenantSlug: string | undefined;
      /** CONSOLE_ISSUER. */
      issuer: string | undefined;
      repo: Pick<ConsolePinRepo, 'pin'>;
      log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
    },
  ) {
    // CONSOLE_ISSUER decides alone: no database needed to know it.
    if (deps.issuer !== undefined) this.#issuers = [deps.issuer];
  }

  /**
   * At start-up (one query), when CONSOLE_TENANT is set: stores or reads the pin and logs it.
   * A database away then is logged; the first console sign-in tries again.
   */
  async load(): Promise<void> {
    if (this.deps.tenantSlug === undefined) return;
    try {
      await this.#load();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'console: could not read the pinned issuer; the first SSO sign-in retries');
    }
  }

  /** The issuers console sign-ins may come from; empty: none may. */
  async issuers(): Promise<readonly string[]> {
    return this.#issuers ?? (await this.#load());
  }

  #load(): Promise<readonly string[]> {
    this.#loading ??= this.#read().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #read(): Promise<readonly string[]> {
    const tenant = this.deps.tenantSlug;
    if (tenant === undefined) return [];
    const stored = await this.deps.repo.pin(tenant, this.deps.issuer);
    this.#issuers = this.deps.issuer === undefined ? stored.issuers : [this.deps.issuer];
    this.#report(tenant, stored.pinnedAt);
    return this.#issuers;
  }

  #report(tenant: string, pinnedAt: Date): void {
    const issuers = this.#issuers ?? [];
    if (this.deps.issuer !== undefined) {
      this.deps.log.info(
        { tenant, issuer: this.deps.issuer },
        'console: SSO sign-ins admitted from CONSOLE_ISSUER only',
      );
    } else if (issuers.length === 0) {
      this.deps.log.warn(
        { tenant },
        'console: CONSOLE_TENANT has no enabled connection, so no issuer is pinned and console SSO refuses everyone: ' +
          'set CONSOLE_ISSUER, or restart the broker once the connection exists',
      );
    } else {
      if (issuers.some((issuer) => issuer.includes('{tenantid}'))) {
        this.deps.log.warn(
          { tenant, issuers },
          'console: a pinned issuer is an Entra {tenantid} template, which admits no console sign-in: ' +
            "set CONSOLE_ISSUER to your own tenant's issuer",
        );
      }
      this.deps.log.info(
        { tenant, issuers, pinnedAt: pinnedAt.toISOString() },
        'console: SSO sign-ins admitted only from the issuers pinned when CONSOLE_TENANT was first configured; ' +
          'a change of its connections does not move them: set CONSOLE_ISSUER to choose another',
      );
    }
  }
}

/**
 * Whether a console login came through a pinned issuer: its validated ID token's `iss`, exactly.
 * Never the connection's configured issuer: for an Entra multi-tenant connection that is the
 * `{tenantid}` template, which every tenant the connection admits would match. Such a pin
 * admits nobody (the start-up log says to set CONSOLE_ISSUER to the one tenant's issuer).
 */
export function isPinned(pinned: readonly string[], iss: string): boolean {
  return !iss.includes('{tenantid}') && pinned.includes(iss);
}
