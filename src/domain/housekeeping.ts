import type { LoginAuditRepo } from './audit/login-audit.repo.js';
import type { ChangeLogRepo } from './changes/change-log.repo.js';
import type { EventLogRepo } from './events/event-log.repo.js';
import type { ConsoleSessionRepo } from './login/console-session.repo.js';
import type { LogoutTokenJtiRepo } from './sessions/logout-token-jti.repo.js';
import type { TicketRepo } from './tickets/ticket.repo.js';

/**
 * Bounded retention, in the background: login attempts and admin changes older than
 * AUDIT_RETENTION_DAYS, sessions past their use, expired console sessions, logout tokens' jtis
 * past their token's lifetime and events older than 30 days are deleted every hour (and once
 * shortly after start); stored tickets that expired unredeemed, every minute, since scripted
 * logins can make many of them (ticket.repo.ts purgeUnredeemed). Every replica runs it; the
 * deletes are idempotent.
 */
export function startHousekeeping(deps: {
  audit: Pick<LoginAuditRepo, 'purge'>;
  tickets: Pick<TicketRepo, 'purge' | 'purgeUnredeemed'>;
  changes?: Pick<ChangeLogRepo, 'purge'>;
  consoleSessions?: Pick<ConsoleSessionRepo, 'purge'>;
  /** Logout tokens' jtis past the time their token could be accepted. */
  logoutTokenJtis?: Pick<LogoutTokenJtiRepo, 'purge'>;
  /** Events and their delivery attempts, after 30 days. */
  events?: Pick<EventLogRepo, 'purge'>;
  retentionDays: number;
  intervalMs?: number;
  /** How often expired unredeemed tickets are purged; a minute unless told (tests). */
  unredeemedIntervalMs?: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}): () => void {
  const run = async () => {
    try {
      const purged = {
        attempts: await deps.audit.purge(deps.retentionDays),
        tickets: await deps.tickets.purge(deps.retentionDays),
        changes: (await deps.changes?.purge(deps.retentionDays)) ?? 0,
        consoleSessions: (await deps.consoleSessions?.purge()) ?? 0,
        logoutTokenJtis: (await deps.logoutTokenJtis?.purge()) ?? 0,
        events: (await deps.events?.purge()) ?? 0,
      };
      if (Object.values(purged).some((count) => count > 0)) {
        deps.log.info(purged, 'purged what is past its retention');
      }
    } catch (error) {
      deps.log.warn({ reason: (error as Error).message }, 'housekeeping failed; will retry');
    }
  };
  const runUnredeemed = async () => {
    try {
      const tickets = await deps.tickets.purgeUnredeemed();
      if (tickets > 0) deps.log.info({ tickets }, 'purged expired unredeemed tickets');
    } catch (error) {
      deps.log.warn({ reason: (error as Error).message }, 'ticket purge failed; will retry');
    }
  };
  const unredeemedMs = deps.unredeemedIntervalMs ?? 60_000;
  const stops = [
    inBackground(run, { firstAfterMs: 5_000, everyMs: deps.intervalMs ?? 60 * 60 * 1000 }),
    inBackground(runUnredeemed, { firstAfterMs: unredeemedMs, everyMs: unredeemedMs }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * Runs `run` after `firstAfterMs`, then every `everyMs`, without keeping the process alive.
 * Returns the function that stops it.
 */
export function inBackground(run: () => unknown, times: { firstAfterMs: number; everyMs: number }): () => void {
  const first = setTimeout(run, times.firstAfterMs);
  const every = setInterval(run, times.everyMs);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
