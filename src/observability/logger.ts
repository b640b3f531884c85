import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * pino JSON logs. Codes, tokens, tickets, secrets, cookies and assertions never reach them:
 * request URLs are logged without their query string (the callback's carries the code), and
 * credential-bearing headers are removed.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'res.headers.location',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.ticket',
  '*.code',
  '*.id_token',
  '*.access_token',
  '*.refresh_token',
  '*.client_assertion',
];

/**
 * Standard output, buffered: lines are written in batches of 4 KiB, or every half second,
 * instead of one write(2) per line on the hot path. `flushSync()` before the process exits.
 */
export function bufferedStdout(): pino.DestinationStream & { flushSync(): void } {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 500).unref();
  process.on('exit', () => destination.flushSync());
  return destination;
}

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, remove: true },
      base: { service: 'sso-broker' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        req: serializeRequest,
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

/** Fastify request serializer: method, path (no query), host, remote address. */
export function serializeRequest(req: { method: string; url: string; host?: string; ip?: string; id?: string }) {
  const queryAt = req.url.indexOf('?');
  const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
  return {
    method: req.method,
    // A setup link's token is its path: a bearer credential, never logged.
    path: path.startsWith('/setup/') ? path.replace(/^\/setup\/[^/]*/, '/setup/[token]') : path,
    host: req.host,
    remoteAddress: req.ip,
  };
}
