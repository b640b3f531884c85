import type { BrowserContext } from 'playwright-core';
import type { Test } from 'tap';

/** What a journey's pages did wrong, as lines: a CSP violation, a console error, an uncaught error. */
export interface Watch {
  readonly problems: string[];
  /**
   * The journey's next step means to land on an error page: the browser's one console error for
   * its HTTP status (`status` at `path`) is then no problem. The page itself is still watched.
   */
  expectErrorPage(status: number, path: string | RegExp): void;
  /** Fails `t` with the list of problems, if there is any. */
  assertClean(t: Pick<Test, 'same'>, what?: string): void;
}

/** A CSP report relayed from the page: the fields that say what was blocked, and where. */
interface Violation {
  directive: string;
  blocked: string;
  sample: string;
  page: string;
}

const BINDING = '__journeyCspViolation';

/**
 * Chromium asks every origin for /favicon.ico by itself and logs a 404 as a console error. That
 * request is the browser's, not the page's (the broker's pages link no icon, nor do the test
 * IdPs'): it is the one console error a journey does not count.
 */
function isFaviconProbe(text: string, url: string): boolean {
  return failedLoad(text, url)?.status === 404 && failedLoad(text, url)?.path === '/favicon.ico';
}

/** Chromium's console error for an answer with an error status: which status, at which path. */
function failedLoad(text: string, url: string): { status: number; path: string } | undefined {
  const status = /^Failed to load resource: the server responded with a status of (\d{3})\b/.exec(text)?.[1];
  return status && URL.canParse(url) ? { status: Number(status), path: new URL(url).pathname } : undefined;
}

/**
 * Records everything a user's browser would complain about on every page of `context` (tabs the
 * journey opens included): console errors, console warnings about the Content Security Policy,
 * uncaught page errors, and each `securitypolicyviolation` event. The event's listener is an init
 * script, which the page's CSP does not govern; it reports through a binding, outside the page.
 * The context keeps the pages' real headers: a journey that needs its CSP bypassed tests a page
 * no user ever gets.
 */
export async function watch(context: BrowserContext, t?: Pick<Test, 'teardown'>): Promise<Watch> {
  const problems: string[] = [];
  let asserted = false;
  // A journey that stops early (a step timed out) never asserts: say what the pages reported.
  t?.teardown(() => {
    if (!asserted && problems.length > 0)
      process.stderr.write(`the journey's pages reported:\n${problems.join('\n')}\n`);
  });
  const expected: { status: number; path: string | RegExp }[] = [];
  /** Whether this console error is an expected error page's status (each expectation serves once). */
  const isExpected = (text: string, url: string) => {
    const failed = failedLoad(text, url);
    const at = expected.findIndex(
      (e) =>
        failed?.status === e.status && (typeof e.path === 'string' ? failed.path === e.path : e.path.test(failed.path)),
    );
    if (at >= 0) expected.splice(at, 1);
    return at >= 0;
  };
  context.on('console', (message) => {
    const text = message.text();
    const url = message.location().url;
    if (isFaviconProbe(text, url) || (message.type() === 'error' && isExpected(text, url))) return;
    const where = `${message.page()?.url() ?? '?'} (${url || 'inline'})`;
    if (message.type() === 'error') problems.push(`console error on ${where}: ${text}`);
    else if (message.type() === 'warning' && /content.security.policy/i.test(text))
      problems.push(`console warning on ${where}: ${text}`);
  });
  context.on('weberror', (error) => problems.push(`page error on ${error.page()?.url() ?? '?'}: ${error.error()}`));
  await context.exposeBinding(BINDING, (_source, v: Violation) => {
    problems.push(`CSP violation on ${v.page}: ${v.directive} blocked ${v.blocked || 'inline'} (${v.sample})`);
  });
  await context.addInitScript((binding: string) => {
    // Runs in the page (no DOM types here): the event's fields the report needs.
    type Event = { effectiveDirective: string; blockedURI: string; sample: string; documentURI: string };
    const page = globalThis as unknown as {
      document: { addEventListener(type: string, listener: (event: Event) => void, capture: boolean): void };
    } & Record<string, ((v: Violation) => void) | undefined>;
    page.document.addEventListener(
      'securitypolicyviolation',
      (event) =>
        page[binding]?.({
          directive: event.effectiveDirective,
          blocked: event.blockedURI,
          sample: event.sample,
          page: event.documentURI,
        }),
      true,
    );
  }, BINDING);
  return {
    problems,
    expectErrorPage: (status, path) => void expected.push({ status, path }),
    assertClean: (t, what = 'the journey') => {
      asserted = true;
      const missed = expected.map((e) => `expected an error page (${e.status} at ${e.path}) that never came`);
      t.same([...problems, ...missed], [], `${what}: no CSP violation, no console error, no page error`);
    },
  };
}
