import { z } from 'zod';
import { parseInput } from '../validation.js';
import type { Change, ChangeLogRepo, ChangeRow } from './change-log.repo.js';

export const RESOURCES = [
  'tenant',
  'connection',
  'connection-version',
  'app',
  'setup-link',
  'webhook',
  'domain',
] as const;

export const changesQuerySchema = z.object({
  resource: z.enum(RESOURCES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * Who changed what (contract v3: GET /admin/changes): when, who (the admin token, a console
 * user, or a setup link), what (resource, id, action, the names of the fields written — never
 * a value), from which address. Validations and test logins are not writes.
 */
export class ChangeLog {
  constructor(private readonly repo: Pick<ChangeLogRepo, 'record' | 'list'>) {}

  record(change: Change): Promise<void> {
    return this.repo.record(change);
  }

  /** `tenant` (a slug; the console's filter): only that tenant's changes, as the repository defines them. */
  async list(query: unknown, tenant?: string): Promise<{ changes: ChangeRow[] }> {
    const { resource, limit } = parseInput(changesQuerySchema, query ?? {});
    return { changes: await this.repo.list(resource, limit, tenant) };
  }
}
