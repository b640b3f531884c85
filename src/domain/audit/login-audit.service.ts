import { z } from 'zod';
import type { TenantRepo } from '../tenants/tenant.repo.js';
import { notFound } from '../not-found.js';
import { parseInput } from '../validation.js';
import type { AuditWriter } from './audit-writer.js';
import type { LoginAttempt, LoginAttemptRow, LoginAuditRepo } from './login-audit.repo.js';

export const listQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional(),
  outcome: z.enum(['success', 'failure']).optional(),
});

export class LoginAuditService {
  constructor(
    private readonly deps: {
      audit: LoginAuditRepo;
      writer: Pick<AuditWriter, 'record'>;
      tenants: TenantRepo;
    },
  ) {}

  /** Records an attempt, in the next batch (audit-writer.ts): the login never waits for it. */
  record(attempt: LoginAttempt): void {
    this.deps.writer.record(attempt);
  }

  /** `GET /admin/tenants/:slug/logins?limit=&outcome=` — newest first. */
  async list(slug: string, query: unknown): Promise<{ logins: LoginAttemptRow[] }> {
    const q = parseInput(listQuerySchema, query);
    const tenant = await this.deps.tenants.findBySlug(slug);
    if (!tenant) notFound('tenant', slug);
    return { logins: await this.deps.audit.listForTenant(tenant.id, { limit: q.limit ?? 50, outcome: q.outcome }) };
  }
}
