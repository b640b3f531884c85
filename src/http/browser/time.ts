import { html, type Html } from './html.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const day = (d: Date) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
const clock = (d: Date) =>
  `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;

/** "6 days", "1 hour": `ms` in `unit`, to the nearest whole one (at least one). */
function amount(ms: number, [unit, name]: readonly [number, string]): string {
  const n = Math.max(1, Math.round(ms / unit));
  return `${n} ${name}${n === 1 ? '' : 's'}`;
}

/** `shown` in a <time> with the exact UTC time in `datetime` and on hover. */
function timeElement(d: Date, shown: string): Html {
  const exact = d.toISOString();
  return html`<time datetime="${exact}" title="${exact}">${shown}</time>`;
}

/**
 * A moment as people read it, "7 Dec 2026, 19:40 UTC" (or only the day, "31 Jan 2031"), with the
 * exact UTC time in `datetime` and on hover. Rendered on the server: the pages run no script for it.
 */
export function humanTime(at: Date | string, only?: 'day'): Html {
  const d = typeof at === 'string' ? new Date(at) : at;
  return timeElement(d, only === 'day' ? day(d) : `${day(d)}, ${clock(d)}`);
}

/** "in 7 days", "in 5 hours", "in 20 minutes": how long until `at` (a link's or a key's end), rounded. */
export function timeUntil(at: Date, now = Date.now()): string {
  const ms = at.getTime() - now;
  if (ms >= 2 * DAY_MS) return `in ${amount(ms, [DAY_MS, 'day'])}`;
  return `in ${amount(ms, ms >= 2 * HOUR_MS ? [HOUR_MS, 'hour'] : [MINUTE_MS, 'minute'])}`;
}

/** "3 minutes ago", "in 6 hours" (rounded): within a day of `now`; undefined further away. */
function relative(at: number, now: number): string | undefined {
  const diff = at - now;
  const size = Math.abs(diff);
  if (size >= DAY_MS) return undefined;
  if (size < MINUTE_MS) return diff <= 0 ? 'just now' : 'in less than a minute';
  const shown = amount(size, size >= HOUR_MS ? [HOUR_MS, 'hour'] : [MINUTE_MS, 'minute']);
  return diff < 0 ? `${shown} ago` : `in ${shown}`;
}

/**
 * A time as people read it — "3 minutes ago" within a day, else as humanTime: "7 Dec 2026, 19:40
 * UTC" — with the exact UTC time in `datetime` and on hover; "—" for none (the console's lists).
 */
export function when(iso: string | null | undefined, now = Date.now()): Html | string {
  if (!iso) return '—';
  const d = new Date(iso);
  const shown = relative(d.getTime(), now);
  return shown === undefined ? humanTime(d) : timeElement(d, shown);
}
