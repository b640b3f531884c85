import { z } from 'zod';
import { EVENT_TYPES } from '../../domain/events/event-log.repo.js';

/** The answers of the events and webhooks routes (contract v4), as routes.ts documents them. */

const time = z.iso.datetime();

export const eventAnswer = z.object({
  id: z.string().describe('The event id: the webhook-id of its deliveries'),
  type: z.enum(EVENT_TYPES),
  timestamp: time,
  data: z.record(z.string(), z.unknown()),
});

export const eventsAnswer = z.object({
  events: z.array(eventAnswer),
  next: z.string().describe('The `after` of the next page; the same `after` again when nothing was returned'),
});

export const webhookAnswer = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  app: z.string().nullable().describe('Only this app’s session.ended events; null: an operators’ endpoint'),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().optional().describe('Why the broker disabled it (3 days of failed deliveries)'),
  createdAt: time,
  updatedAt: time,
});

export const webhookCreatedAnswer = webhookAnswer.extend({
  secret: z.string().describe('whsec_ and the base64 of 32 random bytes: shown in this answer only'),
});

export const webhookSecretAnswer = z.object({
  secret: z.string().describe('The new secret, shown once; the old one also signs for 24 h'),
});

export const deliveriesAnswer = z.object({
  deliveries: z.array(
    z.object({
      event: z.string(),
      type: z.enum(EVENT_TYPES),
      attempt: z.number().int(),
      at: time,
      status: z.number().int().nullable().describe('The endpoint’s HTTP status; null when it gave none'),
      error: z.string().optional(),
      durationMs: z.number().int(),
      nextAttemptAt: time.optional(),
    }),
  ),
});
