import { z } from 'zod';
import { parseInput } from '../validation.js';
import { EVENT_TYPES, type EventLogRepo, type StoredEvent } from './event-log.repo.js';

/** The cursor is opaque to callers: the last event's position, base64url. */
const CURSOR = /^[A-Za-z0-9_-]{1,40}$/;
const encodeCursor = (seq: string) => Buffer.from(`e${seq}`).toString('base64url');
function decodeCursor(cursor: string): string | undefined {
  const text = CURSOR.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  return /^e\d{1,18}$/.test(text) ? text.slice(1) : undefined;
}

export const eventsQuerySchema = z.object({
  after: z
    .string()
    .max(40)
    .refine((value) => decodeCursor(value) !== undefined, 'not a cursor this endpoint returned')
    .optional()
    .describe('The `next` of the previous page; omitted: from the oldest event kept'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  type: z.enum(EVENT_TYPES).optional(),
});

/** An event as apps and operators see it: the webhook body, with its id. */
export interface EventView {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export const toEventView = (event: StoredEvent): EventView => ({
  id: event.id,
  type: event.type,
  timestamp: event.at.toISOString(),
  data: event.data,
});

/**
 * `GET /admin/events` (contract v4): oldest first after the cursor. `next` is the `after` of
 * the following page; with nothing new it repeats `after`, so a poller keeps asking with it.
 */
export class EventFeed {
  constructor(private readonly repo: Pick<EventLogRepo, 'list'>) {}

  async list(query: unknown): Promise<{ events: EventView[]; next: string }> {
    const { after, limit, type } = parseInput(eventsQuerySchema, query ?? {});
    const afterSeq = after === undefined ? '0' : (decodeCursor(after) ?? '0');
    const events = await this.repo.list({ afterSeq, limit, type });
    const last = events.at(-1);
    return { events: events.map(toEventView), next: last ? encodeCursor(last.seq) : encodeCursor(afterSeq) };
  }
}
