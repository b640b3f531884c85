import { isBrokerError } from '../../errors/broker-error.js';
import { html, type Html } from '../browser/html.js';

/**
 * A form as the operator sent it, and what was wrong with it: shown again with the typed values
 * and each message beside its field, instead of a page that only says the request was invalid.
 */
export interface FormState {
  values: Record<string, string>;
  /** By field name (the form's, e.g. `slug`, `tenants`). */
  errors: Record<string, string>;
}

/** A form's text fields from a posted body (anything else is dropped). */
export function typedValues(
  body: Record<string, unknown> | undefined,
  names: readonly string[],
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = body?.[name];
    if (typeof value === 'string') values[name] = value;
  }
  return values;
}

/**
 * The messages of a refused input (`400 invalid_request`, one detail per issue: `tenants.0: no
 * tenant "umbrela"`) by the form field each belongs to; undefined for any other error, which the
 * console's error page shows. `fieldOf` maps an input path's first segment to a field name.
 */
export function fieldErrors(
  error: unknown,
  fieldOf: (key: string) => string = (key) => key,
): Record<string, string> | undefined {
  if (!isBrokerError(error) || error.code !== 'invalid_request') return undefined;
  const details = Array.isArray(error.details) ? (error.details as { path?: unknown; message?: unknown }[]) : [];
  const errors: Record<string, string> = {};
  for (const detail of details) {
    const key = typeof detail.path === 'string' ? (detail.path.split('.')[0] ?? '') : '';
    const field = fieldOf(key) || 'form';
    const message = typeof detail.message === 'string' ? detail.message : 'is not valid';
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  if (Object.keys(errors).length === 0) errors.form = error.description;
  return errors;
}

/** The app form's field that opens an app to every tenant: asked for, never what an emptied list means. */
export const EVERY_TENANT = 'everyTenant';

interface FieldOptions {
  /** The element's id; its message's id is `<id>-error`. */
  id: string;
  name: string;
  label: string;
  form?: FormState | undefined;
  /** The value when the form is not being shown again. */
  value?: string | undefined;
  required?: boolean;
  pattern?: string;
  size?: number;
  hint?: string;
}

/** A labelled text input with its typed value and, when refused, its message beside it. */
export function textField(o: FieldOptions): Html {
  const error = o.form?.errors[o.name];
  const value = o.form?.values[o.name] ?? o.value ?? '';
  const described = [o.hint && `${o.id}-hint`, error && `${o.id}-error`].filter(Boolean).join(' ');
  return html`<span><label for="${o.id}">${o.label}</label>
<input id="${o.id}" name="${o.name}" value="${value}"${o.required ? html` required` : ''}${
    o.pattern ? html` pattern="${o.pattern}"` : ''
  }${o.size ? html` size="${o.size}"` : ''}${error ? html` aria-invalid="true"` : ''}${
    described ? html` aria-describedby="${described}"` : ''
  }>${o.hint ? html`<small id="${o.id}-hint" class="muted">${o.hint}</small>` : ''}${
    error ? html`<span id="${o.id}-error" class="field-error">${o.label}: ${error}</span>` : ''
  }</span>`;
}

/** The summary above a refused form (its fields say what is wrong). */
export function formProblem(form: FormState | undefined, what: string): Html | '' {
  if (!form) return '';
  const general = form.errors.form;
  return html`<p class="box err" role="alert">${what} ${general ?? 'See the messages beside the fields below.'}</p>`;
}

/**
 * The explicit choice that opens an app to every tenant (an emptied Tenants field is refused):
 * ticked as sent when the form is shown again, else as the app is.
 */
export function everyTenantBox(id: string, form: FormState | undefined, every: boolean): Html {
  const checked = form ? form.values[EVERY_TENANT] === 'yes' : every;
  return html`<span><label for="${id}">Every tenant (any organisation’s people may sign in)</label>
<input type="checkbox" id="${id}" name="${EVERY_TENANT}" value="yes"${checked ? html` checked` : ''}></span>`;
}
