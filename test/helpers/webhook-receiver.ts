import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from '../../src/config/local.js';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** How the endpoint answers the next request (default: 204 at once). */
export type Behaviour = (request: IncomingMessage, response: ServerResponse) => void;

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Answers from now on. */
  behave(behaviour: Behaviour): void;
  /** Requests whose answer was never finished (hanging ones), for teardown. */
  open: Set<ServerResponse>;
}

export const answer =
  (status: number, body = ''): Behaviour =>
  (_request, response) =>
    void response.writeHead(status, { 'content-type': 'text/plain' }).end(body);

/**
 * An app's webhook endpoint on loopback: records every request (headers and body, as received)
 * and answers as told — a status, or hostile ways (never, 10 MB, a byte a second, a redirect).
 */
export async function startWebhookReceiver(
  t: { teardown(fn: () => unknown): void },
  host = '127.0.0.1',
): Promise<WebhookReceiver> {
  const port = await freePort();
  const received: ReceivedWebhook[] = [];
  const open = new Set<ServerResponse>();
  let behaviour: Behaviour = answer(204);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      open.add(response);
      response.on('close', () => open.delete(response));
      behaviour(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const response of open) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://${host}:${port}/hooks`,
    received,
    open,
    behave: (next) => void (behaviour = next),
  };
}
