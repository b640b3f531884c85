import { html, type Html } from './html.js';
import { when } from './time.js';

/**
 * A version's last test sign-in, said one way wherever it shows (the setup page and the console):
 * "✓ The test sign-in of version 2 succeeded (3 minutes ago)", or that it has none yet.
 */
export function lastTest(version: number, test: { ok: boolean; at: Date | string } | undefined): Html {
  if (!test) return html`<span class="muted">Version ${version} not tested yet</span>`;
  const at = typeof test.at === 'string' ? test.at : test.at.toISOString();
  return html`<span class="${test.ok ? 'ok' : 'bad'}">${test.ok ? '✓' : '✗'} The test sign-in
of version ${version} ${test.ok ? 'succeeded' : 'failed'}</span> (${when(at)})`;
}
