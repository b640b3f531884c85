import { z } from 'zod';
import { isLoopbackHost } from '../../config/env.schema.js';
import { slugSchema } from '../tenants/tenant.schema.js';

/**
 * A registered return URL. Matching is by exact string (RFC 9700 §4.1.3), so what is
 * registered here is what an app must send; we only refuse URLs that are unsafe to send a
 * ticket to at all.
 */
export const returnUrlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      ctx.addIssue({ code: 'custom', message: 'must use https (http only on loopback hosts)' });
    }
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    if (value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not contain a fragment' });
  });

const returnUrls = z
  .array(returnUrlSchema)
  .min(1)
  .max(50)
  .transform((urls) => [...new Set(urls)]);

const tenants = z
  .array(slugSchema)
  .max(1000)
  .transform((slugs) => [...new Set(slugs)]);

export const createAppSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  returnUrls,
  /** Absent: every tenant may use the app. */
  tenants: tenants.optional(),
});

export const patchAppSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  returnUrls: returnUrls.optional(),
  /** null: every tenant again. */
  tenants: tenants.nullable().optional(),
});

export type CreateAppInput = z.output<typeof createAppSchema>;
export type PatchAppInput = z.output<typeof patchAppSchema>;
