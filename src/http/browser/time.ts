import { html, type Html } from './html.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const day = (d: Date) => `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
const clock = (d: Date) =>
  `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;

/**
 * A moment as people read it, "7 Dec 2026, 19:40 UTC" (or only the day, "31 Jan 2031"), with the
 * exact UTC time in `datetime` and on hover. Rendered on the server: the pages run no script for it.
 */
export function humanTime(at: Date | string, only?: 'day'): Html {
  const d = typeof at === 'string' ? new Date(at) : at;
  const exact = d.toISOString();
  return html`<time datetime="${exact}" title="${exact}">${only === 'day' ? day(d) : `${day(d)}, ${clock(d)}`}</time>`;
}

/** "in 6 days", "in 5 hours", "in 20 minutes": how long until `at` (a link's or a key's end). */
export function timeUntil(at: Date, now = Date.now()): string {
  const ms = at.getTime() - now;
  const [unit, name] =
    ms >= 2 * 86_400_000 ? [86_400_000, 'day'] : ms >= 2 * 3_600_000 ? [3_600_000, 'hour'] : [60_000, 'minute'];
  const n = Math.max(1, Math.floor(ms / unit));
  return `in ${n} ${name}${n === 1 ? '' : 's'}`;
}
