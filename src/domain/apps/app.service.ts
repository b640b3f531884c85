import { randomUUID } from 'node:crypto';
import { randomToken, safeEqual, sha256Hex } from '../../crypto/tokens.js';
import { notFound } from '../not-found.js';
import { BrokerError } from '../../errors/broker-error.js';
import type { TenantRepo } from '../tenants/tenant.repo.js';
import { parseInput } from '../validation.js';
import type { App, AppRepo } from './app.repo.js';
import { createAppSchema, patchAppSchema } from './app.schema.js';

export interface AppView {
  id: string;
  name: string;
  returnUrls: string[];
  /** The tenants allowed to use the app; null means every tenant. */
  tenants: string[] | null;
  createdAt: string;
  updatedAt: string;
}

export function toAppView(app: App): AppView {
  return {
    id: app.id,
    name: app.name,
    returnUrls: app.returnUrls,
    tenants: app.allTenants ? null : app.tenants,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
  };
}

/** App secrets: 256 random bits, shown once, stored as SHA-256 (a slow hash adds nothing at that entropy). */
function newSecret(): { secret: string; secretHash: string } {
  const secret = randomToken(32);
  return { secret, secretHash: sha256Hex(secret) };
}

export function appSecretMatches(app: Pick<App, 'secretHash'>, presented: string): boolean {
  return safeEqual(sha256Hex(presented), app.secretHash);
}

export class AppService {
  constructor(private readonly deps: { apps: AppRepo; tenants: TenantRepo; announce?: () => void }) {}

  async create(body: unknown): Promise<AppView & { secret: string }> {
    const input = parseInput(createAppSchema, body);
    const tenantIds = input.tenants === undefined ? undefined : await this.#tenantIds(input.tenants);
    const { secret, secretHash } = newSecret();
    const app = await this.deps.apps.create({
      id: randomUUID(),
      name: input.name,
      returnUrls: input.returnUrls,
      secretHash,
      tenantIds,
    });
    this.deps.announce?.();
    return { ...toAppView(app), secret };
  }

  async list(): Promise<AppView[]> {
    return (await this.deps.apps.list()).map(toAppView);
  }

  async get(id: string): Promise<AppView> {
    const app = await this.deps.apps.findById(id);
    return toAppView(app ?? notFound('app', id));
  }

  async update(id: string, body: unknown): Promise<AppView> {
    const patch = parseInput(patchAppSchema, body);
    const tenantIds =
      patch.tenants === undefined || patch.tenants === null ? patch.tenants : await this.#tenantIds(patch.tenants);
    return toAppView(
      await this.#write(id, () =>
        this.deps.apps.update(id, { name: patch.name, returnUrls: patch.returnUrls, tenantIds }),
      ),
    );
  }

  async rotateSecret(id: string): Promise<{ secret: string }> {
    const { secret, secretHash } = newSecret();
    await this.#write(id, () => this.deps.apps.update(id, { secretHash }));
    return { secret };
  }

  async delete(id: string): Promise<void> {
    await this.#write(id, () => this.deps.apps.delete(id));
  }

  /** A write to app `id` (undefined or false: there is none), then this process's cache dropped. */
  async #write<T>(id: string, write: () => Promise<T | undefined | false>): Promise<T> {
    const result = (await write()) || notFound('app', id);
    this.deps.announce?.();
    return result;
  }

  async #tenantIds(slugs: string[]): Promise<string[]> {
    const ids: string[] = [];
    const unknown: { path: string; message: string }[] = [];
    for (const [index, slug] of slugs.entries()) {
      const tenant = await this.deps.tenants.findBySlug(slug);
      if (tenant) ids.push(tenant.id);
      else unknown.push({ path: `tenants.${index}`, message: `no tenant "${slug}"` });
    }
    if (unknown.length > 0)
      throw new BrokerError('invalid_request', { description: 'The request body is invalid.', details: unknown });
    return ids;
  }
}
