import { createHash } from 'node:crypto';
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { TestBrowser, hiddenInputs } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { ADA, registerTenant } from '../helpers/scenario.js';

// Bugs (issue 22), which the browser tests could not see while they bypassed the pages' CSP:
// - the setup page's method labels carried style="font-weight:normal", which the page's CSP
//   (styles pinned by hash, no 'unsafe-inline') blocks: Chromium logged an error, and the
//   labels rendered bold;
// - the console's new-tenant form had pattern="[a-z0-9-]+", which browsers compile with the `v`
//   flag, where that class is a syntax error: the pattern checked nothing and logged an error.
// The browser journeys now keep the real headers and fail on any CSP violation or console error
// (test/browser/, test/helpers/journey.ts). This test reads the markup itself, without a browser:
// every inline style and script of a page is pinned by its CSP, no element has a style or event
// handler attribute, and every pattern compiles as a browser compiles it.

/** The directives of a CSP header, by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const unescape = (value: string) =>
  value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** What in `page` its CSP would block, or a browser would log as an error; [] when nothing. */
function problemsOf(page: string, csp: string): string[] {
  const policy = directives(csp);
  const allowed = (name: string) => policy.get(name) ?? policy.get('default-src') ?? [];
  const problems: string[] = [];
  for (const [, body] of page.matchAll(/<style>([\s\S]*?)<\/style>/g)) {
    if (!allowed('style-src').includes(hashOf(body!))) problems.push(`a <style> its CSP does not pin`);
  }
  for (const [, body] of page.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
    if (!allowed('script-src').includes(hashOf(body!))) problems.push(`a <script> its CSP does not pin`);
  }
  for (const [attribute] of page.matchAll(/<[a-z][^>]*\s(style|on[a-z]+)=/gi)) {
    problems.push(`an inline ${attribute.split(/\s/).at(-1)} attribute`);
  }
  for (const [, pattern] of page.matchAll(/\spattern="([^"]*)"/g)) {
    try {
      new RegExp(`^(?:${unescape(pattern!)})$`, 'v'); // as the HTML standard compiles it
    } catch (error) {
      problems.push(`pattern ${pattern}: ${(error as Error).message}`);
    }
  }
  return problems;
}

t.test('the setup link’s and the console’s pages hold nothing their CSP blocks', async (t) => {
  const broker = await startBroker(t);
  const idp = await startIdp(t, {
    redirectUri: broker.config.callbackUrl,
    brokerJwks: broker.keys.jwks(),
    accounts: [ADA],
  });
  const scenario = await registerTenant(broker, idp, { method: 'client_secret_post' });
  const link = await broker.admin('POST', `/admin/tenants/${scenario.tenant}/setup-links`, {
    connection: scenario.connectionId,
  });
  t.equal(link.status, 201);

  const browser = new TestBrowser();
  const check = async (path: string, init: Parameters<TestBrowser['request']>[1] = {}) => {
    const response = await browser.request(`${broker.url}${path}`, init);
    t.match(response.headers.get('content-type'), 'text/html', path);
    const page = await response.text();
    t.same(problemsOf(page, response.headers.get('content-security-policy') ?? ''), [], path);
    return page;
  };
  const setup = new URL(link.body.url).pathname;
  await check(setup);
  await check(`${setup}?idp=other&method=client_secret_post`);
  await check(`${setup}?idp=entra&method=private_key_jwt`);

  t.equal((await browser.request(`${broker.url}/console/sign-in`, { form: { token: broker.adminToken } })).status, 303);
  await check('/console/sign-in');
  const { csrf } = hiddenInputs(await check('/console'));
  for (const path of ['/console/apps', '/console/logins', '/console/changes']) await check(path);
  await check(`/console/connections/${scenario.connectionId}`);
  // The page that moves a console test sign-in on to the IdP.
  await check(`/console/connections/${scenario.connectionId}/versions/1/test-login`, { form: { csrf: csrf! } });
  await check('/api/sso/login'); // an error page
});
