import { html, type Html } from '../browser/html.js';
import { humanTime, timeUntil } from '../browser/time.js';
import { csrfField, lastTestOf } from './setup-forms.js';
import { blocked, NO_BROKER_KEY, type SetupPageModel } from './setup-page.js';

/**
 * The one thing to do now, at the top of the setup page (under the progress), where the eye is
 * after every visit: the test sign-in leads back here (#next), an activation lands here. The
 * Activate button lives only here, and only once the draft's test sign-in succeeded.
 */
export function nextStep(m: SetupPageModel): Html {
  return html`<section id="next" class="box next" aria-labelledby="next-h"><h2 id="next-h">Next</h2>
${what(m)}</section>`;
}

function what(m: SetupPageModel): Html {
  const step = (n: number, text: string) => html`<a href="#s${n}">${text}</a>`;
  if (blocked(m)) {
    const why =
      m.method === 'private_key_jwt' && m.keys.length === 0
        ? NO_BROKER_KEY
        : `${m.product?.name ?? 'This IdP'} does not support ${m.method ?? 'this method'}: choose the other method.`;
    return html`<p>${why} ${step(1, 'Change the method in step 1')}.</p>`;
  }
  if (m.draft) return draftNext(m, m.draft, step);
  if (m.active) return done(m, m.active);
  if (!m.product || !m.method) {
    return html`<p>Choose your identity provider and how the broker authenticates: ${step(1, 'step 1')}.</p>`;
  }
  return html`<p>Register the broker at ${m.product.name} (${step(2, 'step 2')}), then hand back what it gave you
(${step(3, 'step 3')}).</p>`;
}

function draftNext(
  m: SetupPageModel,
  draft: NonNullable<SetupPageModel['draft']>,
  step: (n: number, text: string) => Html,
): Html {
  const v = draft.version;
  if (draft.lastTestOk === true) {
    return html`<p>${lastTestOf(draft)}. Activate it: every sign-in of ${m.tenantName} uses it from then on, on every
server at once${m.active ? html`, in place of version ${m.active.version}` : ''}.</p>
<form method="post" action="${m.base}/activate">${csrfField(m)}
<button type="submit">Activate version ${v}</button></form>`;
  }
  if (draft.lastTestAt) {
    return html`<p>${lastTestOf(draft)}. Its page said which step failed and why: fix it at your IdP or in
${step(3, 'step 3')}, then ${step(4, 'run the test sign-in again')}.</p>`;
  }
  if (draft.lastValidation && !draft.lastValidation.ok) {
    return html`<p>Version ${v} is saved, but some checks failed: fix what ${step(3, 'the report in step 3')} says,
and save again.</p>`;
  }
  return html`<p>Version ${v} is saved. Sign in with a test account to check it end to end:
${step(4, 'test sign-in')}.</p>`;
}

/** Live: what happened, that nothing more is needed, and what the link is still good for. */
function done(m: SetupPageModel, active: NonNullable<SetupPageModel['active']>): Html {
  const since = active.activatedAt ? html` (activated ${humanTime(active.activatedAt)})` : '';
  return html`<p><span class="ok">✓ Single sign-on for ${m.tenantName} is live</span> with version
${active.version}${since}: learners sign in through it. Nothing more to do.</p>
<p>This link works until ${humanTime(m.linkExpiresAt)} (${timeUntil(m.linkExpiresAt)}). Until then you can use it
again for a rotation — a new client secret, or a move to the broker’s key: save the new settings in step 3, test,
and activate, while learners keep signing in with version ${active.version}. After that, ask the operator for a new
link.</p>`;
}
