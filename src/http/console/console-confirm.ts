import { html, type Html } from '../browser/html.js';
import { consolePage, csrfField, type Chrome } from './console-layout.js';

/** The form field that says the operator saw the confirmation step and went on. */
export const CONFIRMED = 'confirmed';

/** Whether a destructive form was posted from its confirmation step. */
export const isConfirmed = (body: Record<string, unknown> | undefined) => body?.[CONFIRMED] === 'yes';

export interface Confirmation {
  title: string;
  /** What stops working, in the operator's words. */
  breaks: Html | string;
  /** The same route the action's button posts to. */
  action: string;
  /** The form's other fields, posted again as they came. */
  fields?: Record<string, string>;
  button: string;
  /** Where "Cancel" goes. */
  back: string;
}

/**
 * The step between a destructive button and its effect, served by the broker (no script under
 * the console's CSP): says what breaks, and posts the same form again with `confirmed=yes`.
 */
export function confirmPage(chrome: Chrome, c: Confirmation): string {
  const hidden = Object.entries(c.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  return consolePage(
    c.title,
    chrome,
    html`<div class="box" role="alert"><p>${c.breaks}</p></div>
<form method="post" action="${c.action}">${csrfField(chrome)}${hidden}
<input type="hidden" name="${CONFIRMED}" value="yes">
<button type="submit">${c.button}</button> <a href="${c.back}">Cancel</a></form>`,
  );
}
