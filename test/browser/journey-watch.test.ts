import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import t from 'tap';
import { html, trusted } from '../../src/http/browser/html.js';
import {
  PAGE_SECURITY_HEADERS,
  pageSecurityHeaders,
  renderContinuePage,
  renderPage,
} from '../../src/http/browser/pages.js';
import { launch, missing } from '../helpers/chromium.js';
import { watch, type Watch } from '../helpers/journey.js';
import { waitFor } from '../helpers/wait.js';

// The journeys' watch (test/helpers/journey.ts) catches what a user's Chromium complains about,
// under the broker's own page headers: an inline style or script the CSP does not pin, a form
// whose answer redirects to another origin (form-action 'self': how the test sign-in once did
// nothing), a console error and an uncaught error. And the way the broker's forms now reach an
// IdP — a 200 page that refreshes to it — does get there, in the tab `target="_blank"` opens,
// with nothing to report.

/** A script the page's CSP pins, which logs an error and throws one. */
const NOISY = `console.error('a console error');setTimeout(function(){throw new Error('an uncaught error')})`;
const FORM_HEADERS = pageSecurityHeaders({ forms: true });

async function listen(t: { teardown(fn: () => unknown): void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A page of the broker's with a form that posts to `action` of this origin. */
const formPage = (action: string, target = '') =>
  renderPage('Form', html`<form method="post" action="${action}"${trusted(target)}><button>Go</button></form>`);

t.test('a journey’s watch, under the broker’s own page headers', { skip: missing }, async (t) => {
  // Another origin, as an IdP is: its page says where it is.
  const idp = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html lang="en"><title>IdP</title>');
  });
  const pages: Record<string, [Record<string, string>, string]> = {
    '/inline-style': [FORM_HEADERS, renderPage('Inline', html`<p style="font-weight:normal">styled</p>`)],
    '/unpinned-script': [FORM_HEADERS, renderPage('Unpinned', html`<script>${trusted('document.title="x"')}</script>`)],
    '/noisy-script': [
      pageSecurityHeaders({ scripts: [NOISY] }),
      renderPage('Noisy', html`<script>${trusted(NOISY)}</script>`),
    ],
    '/redirecting-form': [FORM_HEADERS, formPage('/redirect')],
    '/continuing-form': [FORM_HEADERS, formPage('/continue', ' target="_blank"')],
  };
  const broker = await listen(t, (req, res) => {
    const page = pages[req.url ?? ''];
    if (page) return res.writeHead(200, { ...page[0], 'content-type': 'text/html; charset=utf-8' }).end(page[1]);
    if (req.method === 'POST' && req.url === '/redirect') return res.writeHead(303, { location: `${idp}/` }).end();
    if (req.method === 'POST' && req.url === '/continue') {
      const headers = { ...PAGE_SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' };
      return res.writeHead(200, headers).end(renderContinuePage(`${idp}/authorize?x=1&y=2`, 'Continuing'));
    }
    const headers = { ...PAGE_SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' };
    res.writeHead(404, headers).end(renderPage('Not found', html`<h1>Not found</h1>`));
  });
  const browser = await launch(t);
  /** Plays `play` in a fresh context (the pages' real headers), watched; what the watch saw. */
  const journey = async (play: (page: Page, problems: string[], watched: Watch) => Promise<unknown>) => {
    const context = await browser.newContext();
    t.teardown(() => context.close());
    const watched = await watch(context);
    await play(await context.newPage(), watched.problems, watched);
    return watched.problems;
  };

  t.test('an error page: a problem, unless the journey means to land there', async (t) => {
    const unexpected = await journey((page) => page.goto(`${broker}/nowhere`));
    t.ok(await waitFor(() => unexpected.some((p) => p.includes('status of 404'))), 'an unexpected 404 is reported');
    const expected = await journey(async (page, _problems, watched) => {
      watched.expectErrorPage(404, '/nowhere');
      await page.goto(`${broker}/nowhere`);
      await page.goto(`${broker}/inline-style`); // whatever comes next is still watched
    });
    t.ok(await waitFor(() => expected.some((p) => p.includes('style-src-attr'))));
    t.notOk(
      expected.some((p) => p.includes('status of 404')),
      'the expected one is not',
    );
  });

  t.test('an inline style attribute the CSP does not pin', async (t) => {
    const problems = await journey((page) => page.goto(`${broker}/inline-style`));
    t.ok(await waitFor(() => problems.some((p) => /CSP violation.*style-src-attr/.test(p))), problems.join('\n'));
  });

  t.test('an inline script the CSP does not pin', async (t) => {
    const problems = await journey((page) => page.goto(`${broker}/unpinned-script`));
    t.ok(await waitFor(() => problems.some((p) => /CSP violation.*script-src-elem/.test(p))), problems.join('\n'));
  });

  t.test('a console error and an uncaught error', async (t) => {
    const problems = await journey((page) => page.goto(`${broker}/noisy-script`));
    t.ok(await waitFor(() => problems.some((p) => p.startsWith('console error') && p.includes('a console error'))));
    t.ok(await waitFor(() => problems.some((p) => p.startsWith('page error') && p.includes('an uncaught error'))));
  });

  t.test('a form whose answer redirects to another origin: blocked, and caught', async (t) => {
    let at = '';
    const problems = await journey(async (page, problems) => {
      await page.goto(`${broker}/redirecting-form`);
      await page.getByRole('button', { name: 'Go' }).click();
      t.ok(await waitFor(() => problems.some((p) => /CSP violation.*form-action/.test(p))), problems.join('\n'));
      at = page.url();
    });
    t.ok(await waitFor(() => problems.some((p) => /console error.*form-action/.test(p))), 'and the console says so');
    t.equal(new URL(at).origin, broker, 'the browser never left');
  });

  t.test('a form answered by a page that refreshes to another origin: it gets there, in a new tab', async (t) => {
    const problems = await journey(async (page) => {
      await page.goto(`${broker}/continuing-form`);
      const [tab] = await Promise.all([
        page.context().waitForEvent('page'),
        page.getByRole('button', { name: 'Go' }).click(),
      ]);
      await tab.waitForURL(`${idp}/authorize?x=1&y=2`);
      t.equal(await tab.title(), 'IdP', 'at the other origin, with the whole query');
      t.equal(page.url(), `${broker}/continuing-form`, 'the form’s tab stays where it was');
    });
    t.same(problems, [], 'nothing to report');
  });
});
