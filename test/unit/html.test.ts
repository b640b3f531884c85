import t from 'tap';
import { html, trusted } from '../../src/http/browser/html.js';
import { renderDiagnosticsPage } from '../../src/http/browser/diagnostics-page.js';
import { renderErrorPage } from '../../src/http/browser/pages.js';

// Pages escape by default: whatever a tenant, an IdP or a browser controls is text, never markup.

const hostile = `<script>alert("x")</script>&'`;
const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;';

t.test('html rule: interpolations are escaped; nested templates and trusted() markup are not', async (t) => {
  t.equal(html`<p>${hostile}</p>`.markup, `<p>${escaped}</p>`);
  t.equal(
    html`<div>${html`<b>${hostile}</b>`}</div>`.markup,
    `<div><b>${escaped}</b></div>`,
    'a nested template is escaped once',
  );
  t.equal(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.markup, '<ul>&lt;a&gt;<li>ok</li></ul>', 'arrays item by item');
  t.equal(html`${null}${undefined}${false}${0}`.markup, '0', 'nothing for null, undefined and false');
  t.equal(html`${trusted('<em>ours</em>')}`.markup, '<em>ours</em>', 'markup marked as ours');
});

t.test('html rule: a learner error page shows a hostile organisation name and description as text', async (t) => {
  const page = renderErrorPage({
    code: 'domain_not_allowed',
    description: hostile,
    requestId: 'r1',
    organisation: hostile,
  });
  t.notMatch(page, '<script>');
  t.match(page, escaped);
  t.match(page, `<title>This account does not belong to ${escaped}</title>`);
});

t.test('html rule: test-login diagnostics show hostile claims and messages as text', async (t) => {
  const page = renderDiagnosticsPage(
    {
      connection: hostile,
      tenant: hostile,
      redirectUri: hostile,
      ok: false,
      steps: [{ id: 'claims', ok: false, message: hostile }],
      claims: { [hostile]: hostile },
    },
    hostile,
  );
  t.notMatch(page, '<script>');
  t.ok(page.split(escaped.slice(0, 20)).length > 5, 'every value is there, escaped');
});
