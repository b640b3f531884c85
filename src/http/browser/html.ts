/**
 * HTML that escapes by default: every value interpolated into an html`…` template is escaped,
 * unless it is itself Html (a nested template) or was marked with trusted() — so forgetting to
 * escape a tenant's name, an IdP's message or a claim is no longer possible, and the few places
 * that insert markup say so where they do it.
 */
export class Html {
  constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template whose interpolations are escaped; arrays are rendered item by item; null,
 * undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  // String.raw interleaves; given the cooked strings as `raw`, it keeps their escapes cooked.
  return new Html(String.raw({ raw: strings }, ...values.map(render)));
}

/** Markup written by us, in this repository (never data from a request, an IdP or the database). */
export function trusted(markup: string): Html {
  return new Html(markup);
}
