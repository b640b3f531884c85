import { createServer } from 'node:http';
import { freePort } from '../../src/config/local.js';
import { percentile, type Driver, type Target } from './driver.js';

/**
 * How long a session takes to end at the app: from the IdP's logout token (POST
 * /api/sso/backchannel-logout/<connection>) to the app's webhook endpoint receiving
 * `session.ended` for that session — measured one at a time, while `load` keeps logins
 * running. Returns the median and p99 (ms).
 */
export async function sessionEndedLatency(options: {
  samples: number;
  driver: Driver;
  target: Target;
  idpUrl: string;
  clientId: string;
  connectionId: string;
  admin(path: string, body: unknown): Promise<Record<string, string>>;
  /** Runs logins until it is told to stop. */
  load(stopped: () => boolean): Promise<void>;
}): Promise<{ samples: number; medianMs: number; p99Ms: number }> {
  const waiting = new Map<string, () => void>();
  const port = await freePort();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      const event = JSON.parse(body) as { type: string; data: { session: string } };
      waiting.get(event.data.session)?.();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await options.admin('/admin/webhooks', {
    url: `http://127.0.0.1:${port}/events`,
    events: ['session.ended'],
    app: options.target.app.id,
  });
  let stop = false;
  const load = options.load(() => stop);
  const latencies: number[] = [];
  try {
    const { publicUrl } = options.target;
    for (let i = 0; i < options.samples; i++) {
      const ticket = await options.driver.browserLogin(options.target, publicUrl);
      const answer = await options.driver.redeem(options.target, publicUrl, ticket);
      const sid = (answer.claims as { sid: string }).sid;
      const made = await fetch(`${options.idpUrl}/logout-token`, {
        method: 'POST',
        body: JSON.stringify({ aud: options.clientId, sid }),
      });
      const { logout_token: token } = (await made.json()) as { logout_token: string };
      const received = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no session.ended within 30 s')), 30_000);
        waiting.set(answer.session as string, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const started = performance.now();
      const posted = await fetch(`${publicUrl}/api/sso/backchannel-logout/${options.connectionId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      if (posted.status !== 200) throw new Error(`back-channel logout: ${posted.status} ${await posted.text()}`);
      await received;
      latencies.push(performance.now() - started);
      waiting.delete(answer.session as string);
    }
  } finally {
    stop = true;
    await load;
    server.close();
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(percentile(latencies, p) * 10) / 10;
  return { samples: latencies.length, medianMs: at(50), p99Ms: at(99) };
}
