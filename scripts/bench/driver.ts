import { Agent, request } from 'undici';

/**
 * The benchmark's browsers and relying app: complete logins through the broker's real HTTP
 * surface, over keep-alive connections as browsers and app servers use them.
 *   browser: GET /api/sso/login → 302 to the IdP (+ the login's cookie)
 *            GET <IdP>/authorize → 302 to /api/sso/callback/<connection id>
 *            GET /api/sso/callback/<connection id> (with the cookie) → 302 to the app with ?ticket=
 *   app:     POST /api/sso/tickets/redeem (Basic app credentials) → 200 identity
 */
export interface Response {
  status: number;
  location: string | undefined;
  setCookie: string[];
  body: string;
}

export interface Target {
  /** Broker origins to spread logins over (replicas behind a load balancer), e.g. http://127.0.0.1:3000. */
  origins: string[];
  /** The PUBLIC_URL every replica shares; the IdP redirects there, the driver routes it. */
  publicUrl: string;
  app: { id: string; secret: string };
  tenant: string;
  returnTo: string;
}

export class Driver {
  readonly #agent: Agent;

  constructor(concurrency: number) {
    // Keep-alive connections, one per concurrent browser or app request to each origin.
    this.#agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  }

  close() {
    void this.#agent.destroy();
  }

  async send(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
    const res = await request(url, { method: method as 'GET', headers, body, dispatcher: this.#agent });
    const text = await res.body.text();
    const setCookie = res.headers['set-cookie'];
    return {
      status: res.statusCode,
      location: res.headers.location as string | undefined,
      setCookie: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
      body: text,
    };
  }

  /** The browser leg of one login, through `origin`; returns the ticket. */
  async browserLogin(target: Target, origin: string): Promise<string> {
    const query = new URLSearchParams({ app: target.app.id, return_to: target.returnTo, tenant: target.tenant });
    // As a load balancer does: any replica, but the Host the browser asked for (PUBLIC_URL's).
    const host = { host: new URL(target.publicUrl).host };
    const start = await this.send('GET', `${origin}/api/sso/login?${query}`, host);
    if (start.status !== 302 || !start.location) throw new Error(`login: ${start.status} ${start.body.slice(0, 200)}`);
    // The cookie jar of this one browser: the login's transaction cookie, for the callback.
    const jar = start.setCookie.map((cookie) => cookie.slice(0, cookie.indexOf(';'))).join('; ');
    const authorize = await this.send('GET', start.location);
    if (authorize.status !== 302 || !authorize.location)
      throw new Error(`authorize: ${authorize.status} ${authorize.body.slice(0, 200)}`);
    const callbackUrl = origin + authorize.location.slice(target.publicUrl.length);
    const callback = await this.send('GET', callbackUrl, { ...host, cookie: jar });
    const ticket = callback.location ? new URL(callback.location).searchParams.get('ticket') : null;
    if (callback.status !== 302 || !ticket)
      throw new Error(`callback: ${callback.status} ${callback.location ?? callback.body.slice(0, 200)}`);
    return ticket;
  }

  /**
   * One complete login at the reference relying party (reference-rp.ts), with a fresh cookie
   * jar: protected page → IdP → redirect URI → protected page.
   */
  async referenceLogin(origin: string): Promise<void> {
    const jar = new Map<string, string>();
    const keep = (response: Response) => {
      for (const cookie of response.setCookie) {
        const pair = cookie.slice(0, cookie.indexOf(';'));
        jar.set(pair.slice(0, pair.indexOf('=')), pair);
      }
    };
    // A browser navigation: mod_auth_openidc answers 401, not a redirect, to anything else.
    const navigation = { accept: 'text/html' };
    const cookie = () => ({ ...navigation, cookie: [...jar.values()].join('; ') });
    const page = `${origin}/protected/page`;
    const start = await this.send('GET', page, navigation);
    if (start.status !== 302 || !start.location)
      throw new Error(`reference: ${start.status} ${start.body.slice(0, 200)}`);
    keep(start);
    const authorize = await this.send('GET', start.location, navigation);
    if (authorize.status !== 302 || !authorize.location) throw new Error(`authorize: ${authorize.status}`);
    const callback = await this.send('GET', authorize.location, cookie());
    if (callback.status !== 302)
      throw new Error(`reference callback: ${callback.status} ${callback.body.slice(0, 300)}`);
    keep(callback);
    const done = await this.send('GET', page, cookie());
    if (done.status !== 200) throw new Error(`reference page: ${done.status} ${done.body.slice(0, 200)}`);
  }

  /** The relying app's server-to-server redemption; the redeem answer. */
  async redeem(target: Target, origin: string, ticket: string): Promise<Record<string, unknown>> {
    const credentials = Buffer.from(`${target.app.id}:${target.app.secret}`).toString('base64');
    const response = await this.send(
      'POST',
      `${origin}/api/sso/tickets/redeem`,
      {
        host: new URL(target.publicUrl).host,
        authorization: `Basic ${credentials}`,
        'content-type': 'application/json',
      },
      JSON.stringify({ ticket }),
    );
    if (response.status !== 200) throw new Error(`redeem: ${response.status} ${response.body.slice(0, 200)}`);
    return JSON.parse(response.body) as Record<string, unknown>;
  }
}

/**
 * Runs `task` from `concurrency` workers until `count` tasks have started or `seconds` have
 * passed; returns each task's duration (ms) and the wall time.
 */
export async function runConcurrently(
  concurrency: number,
  count: number,
  seconds: number,
  task: (i: number) => Promise<void>,
) {
  const durations: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let started = 0;
  const begin = performance.now();
  const worker = async () => {
    while (started < count && performance.now() < deadline) {
      const i = started++;
      const t0 = performance.now();
      await task(i);
      durations.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { durations, wallMs: performance.now() - begin };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
