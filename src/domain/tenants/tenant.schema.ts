import { z } from 'zod';

// A tenant slug is also a DNS label (`<slug>.<TENANT_DOMAIN>`).
export const slugSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens, at most 63');

/** A domain name as tenants register it (lower-case; lookups lower-case too). */
export const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const domainSchema = z
  .string()
  .max(253)
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().regex(DOMAIN_NAME, 'must be a domain name such as acme.example'));

const domainsSchema = z
  .array(domainSchema)
  .max(100)
  .transform((domains) => [...new Set(domains)]);

export const createTenantSchema = z.strictObject({
  slug: slugSchema,
  name: z.string().trim().min(1).max(200),
  domains: domainsSchema.default([]),
  restrictToDomains: z.boolean().default(false),
});

export const patchTenantSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  domains: domainsSchema.optional(),
  restrictToDomains: z.boolean().optional(),
});

export type CreateTenantInput = z.output<typeof createTenantSchema>;
export type PatchTenantInput = z.output<typeof patchTenantSchema>;
