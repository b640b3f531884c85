import { z } from 'zod';
import { EVENT_TYPES } from '../events/event-log.repo.js';

/**
 * A webhook endpoint's URL: absolute http(s), no credentials, no fragment. Where it may point
 * is decided when the broker connects (WEBHOOK_PRIVATE_NETWORKS), for every address its name
 * resolves to then.
 */
const webhookUrl = z
  .string()
  .max(2048)
  .url({ protocol: /^https?$/, message: 'must be an absolute https (or http on loopback) URL' })
  .refine((value) => {
    const url = URL.parse(value);
    return url === null || (url.username === '' && url.password === '' && url.hash === '');
  }, 'must carry no credentials and no fragment');

const eventTypes = z
  .array(z.enum(EVENT_TYPES))
  .min(1)
  .max(EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'lists a type twice');

export const createWebhookSchema = z
  .object({
    url: webhookUrl,
    events: eventTypes,
    app: z.string().min(1).max(200).optional().describe('Only this app’s session.ended events'),
    description: z.string().max(500).optional(),
  })
  .strict();

export const patchWebhookSchema = z
  .object({
    url: webhookUrl.optional(),
    events: eventTypes.optional(),
    description: z.string().max(500).nullable().optional(),
    enabled: z.boolean().optional().describe('true re-enables an endpoint the broker disabled'),
  })
  .strict();

export const deliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
