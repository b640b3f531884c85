import type { LookupFunction } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { Agent, fetch } from 'undici';

// Browsers resolve every *.localhost name to loopback (RFC 6761 §6.3); Node's resolver does
// not, so this browser does it itself: tenant subdomains like acme.localhost work in tests.
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    return void import('node:dns').then((dns) => dns.lookup(hostname, options, callback as never));
  }
  if (options.all)
    (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ]);
  else callback(null, '127.0.0.1', 4);
};
const dispatcher = new Agent({ connect: { lookup: loopbackLookup } });

export interface Hop {
  url: string;
  status: number;
  location?: string;
  /** The broker's x-request-id, when it answered. */
  requestId?: string;
}

/**
 * A minimal browser for protocol tests: a real cookie jar (tough-cookie, RFC 6265), manual
 * redirects so every hop can be inspected, and form posts. Stops at any URL `stopAt` accepts
 * (the relying app's return URL, which nothing serves in these tests).
 */
export class TestBrowser {
  readonly jar = new CookieJar();
  readonly hops: Hop[] = [];

  async request(url: string, init: { method?: string; form?: Record<string, string>; accept?: string } = {}) {
    const cookie = await this.jar.getCookieString(url);
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        accept: init.accept ?? 'text/html,application/xhtml+xml',
        ...(cookie && { cookie }),
        ...(init.form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      dispatcher,
    });
    for (const header of response.headers.getSetCookie()) await this.jar.setCookie(header, url);
    const location = response.headers.get('location') ?? undefined;
    const requestId = response.headers.get('x-request-id') ?? undefined;
    this.hops.push({
      url,
      status: response.status,
      ...(location && { location: new URL(location, url).href }),
      ...(requestId && { requestId }),
    });
    return response;
  }

  /** Follows redirects from `url` until a non-redirect answer or a URL `stopAt` accepts. */
  async follow(url: string, stopAt: (url: string) => boolean, init: Parameters<TestBrowser['request']>[1] = {}) {
    let response = await this.request(url, init);
    for (let i = 0; i < 20; i++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || !location) return { response, url: undefined };
      const next = new URL(location, this.hops.at(-1)!.url).href;
      if (stopAt(next)) return { response, url: next };
      response = await this.request(next, { ...(init.accept && { accept: init.accept }) });
    }
    throw new Error('too many redirects');
  }

  async cookieNames(url: string): Promise<string[]> {
    return (await this.jar.getCookies(url)).map((c) => c.key);
  }
}

/** The action of the first form on an HTML page, resolved against the page URL. */
export function formAction(html: string, pageUrl: string): string {
  const match = /<form[^>]*action="([^"]+)"/i.exec(html);
  if (!match) throw new Error(`no form on ${pageUrl}`);
  return new URL(match[1]!.replaceAll('&amp;', '&'), pageUrl).href;
}

/**
 * The learner's journey: open the broker's login URL, sign in at the IdP's form as `login`,
 * and come back to the app's return URL. Returns that final URL (with ticket= or error=).
 */
export async function signIn(browser: TestBrowser, loginUrl: string, login: string, returnTo: string): Promise<URL> {
  const isApp = (url: string) => url.startsWith(returnTo.split('?')[0]!);
  const first = await browser.follow(loginUrl, isApp);
  if (first.url) return new URL(first.url);
  if (first.response.status !== 200) {
    throw new Error(`expected the IdP's sign-in form, got ${first.response.status}: ${await first.response.text()}`);
  }
  const formPage = browser.hops.at(-1)!.url;
  const action = formAction(await first.response.text(), formPage);
  const back = await browser.follow(action, isApp, { form: { login } });
  if (!back.url) throw new Error(`never came back to the app: ${back.response.status} ${await back.response.text()}`);
  return new URL(back.url);
}

/**
 * Where a page's `<meta http-equiv="refresh">` sends the browser (the broker's "continuing to
 * your identity provider" page), resolved against the page URL; undefined without one.
 */
export function refreshTarget(html: string, pageUrl: string): string | undefined {
  const match = /<meta http-equiv="refresh" content="\d+;url=([^"]+)"/i.exec(html);
  return match ? new URL(match[1]!.replaceAll('&amp;', '&'), pageUrl).href : undefined;
}

/** The first form's hidden inputs (name → value), as a browser would submit them. */
export function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(match[0])?.[1];
    const value = /value="([^"]*)"/.exec(match[0])?.[1] ?? '';
    if (name) fields[name] = value;
  }
  return fields;
}
