/**
 * Whether an error means the database cannot be reached right now (down, restarting, out of
 * connections), rather than a bug: such a request is answered 503 with Retry-After, not 500.
 * pg reports socket errors by their errno code and PostgreSQL's refusals by SQLSTATE; Prisma
 * wraps either (its driver adapter keeps the original as a cause).
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
// 08: connection exceptions; 57P01-57P03: the server is shutting down or starting; 53300: too many connections.
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  "Can't reach database server",
  'the database system is',
];
// Prisma's: P1001 cannot reach, P1002 timed out, P1017 server closed the connection, P2024 pool timeout.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown; meta?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code) || PRISMA_CODES.has(code))) return true;
  if (e.kind === 'DatabaseNotReachable' || e.kind === 'ConnectionClosed' || e.kind === 'SocketTimeout') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (MESSAGES.some((m) => message.includes(m))) return true;
  const adapter = (e.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
  return isDatabaseUnavailable(e.cause, depth + 1) || isDatabaseUnavailable(adapter, depth + 1);
}
