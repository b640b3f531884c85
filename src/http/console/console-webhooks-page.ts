import type { AppView } from '../../domain/apps/app.service.js';
import { EVENT_TYPES, OPERATOR_EVENT_TYPES, type EventType } from '../../domain/events/event-log.repo.js';
import type { toWebhookView, WebhookService } from '../../domain/webhooks/webhook.service.js';
import { html, type Html } from '../browser/html.js';
import { when } from '../browser/time.js';
import { formProblem, textField, type FormState } from './console-forms.js';
import { consolePage, csrfField, emptyState, type Chrome } from './console-layout.js';

export type WebhookView = ReturnType<typeof toWebhookView>;
export type Delivery = Awaited<ReturnType<WebhookService['deliveries']>>['deliveries'][number];

/** An endpoint and its latest delivery attempts, newest first. */
export interface EndpointSummary {
  endpoint: WebhookView;
  deliveries: Delivery[];
}

/** A secret just made (a new endpoint's, or a rotation's), shown once. */
export interface FreshSecret {
  endpoint: string;
  secret: string;
  rotated: boolean;
}

/** What each type an endpoint can subscribe to tells (`webhook.test` goes to the asking endpoint only). */
const EVENT_HINTS: Record<Exclude<EventType, 'webhook.test'>, string> = {
  'session.ended': 'an IdP or an app ended a learner’s session',
  'connection.activated': 'a connection’s version was activated',
  'connection.failing': 'a connection’s logins keep failing at its IdP',
  'connection.recovered': 'a failing connection works again',
  'credential.expiring': 'a client secret or broker certificate expires within 30 days',
  'domain.verified': 'a tenant’s email domain was verified',
  'domain.unverified': 'a verified domain’s TXT record went missing: it routes nobody any more',
};
const SUBSCRIBABLE = EVENT_TYPES.filter((type) => type !== 'webhook.test');
const operatorOnly = (type: string) => OPERATOR_EVENT_TYPES.includes(type as EventType);

const appLink = (apps: Map<string, AppView>, id: string) =>
  html`<a href="/console/apps#app-${id}">${apps.get(id)?.name ?? 'a deleted app'}</a>`;

/** A delivery attempt's answer: the HTTP status, or why there was none. */
function answerCell(d: Delivery): Html {
  if (d.status === null) return html`<span class="bad">${d.error ?? 'no answer'}</span>`;
  const ok = d.status >= 200 && d.status < 300;
  return html`<span class="${ok ? 'ok' : 'bad'}">HTTP ${d.status}</span>`;
}

function deliveriesTable(chrome: Chrome, e: WebhookView, deliveries: Delivery[]): Html {
  if (deliveries.length === 0)
    return emptyState('No delivery yet. Send a test event to check that the endpoint answers and verifies it.');
  const newest = new Set<string>();
  const rows = deliveries.map((d) => {
    // Retry is offered on each event's newest attempt, while the endpoint receives anything.
    const retry =
      e.enabled && !newest.has(d.event)
        ? html`<form method="post" action="/console/webhooks/${e.id}/deliveries/${d.event}/retry" class="inline">
${csrfField(chrome)}<button type="submit">Retry</button></form>`
        : '';
    newest.add(d.event);
    return html`<tr><td><code>${d.type}</code><br><small class="muted">${d.event}</small></td><td>${d.attempt}</td>
<td>${when(d.at)}</td><td>${answerCell(d)}</td><td>${d.durationMs} ms</td><td>${when(d.nextAttemptAt)}</td>
<td>${retry}</td></tr>`;
  });
  return html`<table><caption class="muted">Latest deliveries, newest first</caption><thead><tr>
<th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">When</th><th scope="col">Answer</th>
<th scope="col">Duration</th><th scope="col">Next attempt</th><th scope="col">Action</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** Enabled, or disabled with the broker's reason (and the way back) where the operator sees it first. */
function endpointState(chrome: Chrome, e: WebhookView): Html {
  if (e.enabled) return html`<p><span class="ok">Enabled</span>: receives the events it lists.</p>`;
  return html`<div class="box err"><p><strong>Disabled</strong>: ${
    e.disabledReason ?? 'turned off through the admin API.'
  } It receives no event, and nothing is retried, until it is enabled again.</p>
<form method="post" action="/console/webhooks/${e.id}/enable">${csrfField(chrome)}
<button type="submit">Enable again</button></form></div>`;
}

function endpointSection(chrome: Chrome, apps: Map<string, AppView>, s: EndpointSummary): Html {
  const e = s.endpoint;
  const post = (path: string, label: string) =>
    html`<form method="post" action="/console/webhooks/${e.id}/${path}" class="inline">${csrfField(chrome)}
<button type="submit">${label}</button></form>`;
  return html`<section id="hook-${e.id}" aria-labelledby="hook-${e.id}-url">
<h2 id="hook-${e.id}-url"><code>${e.url}</code></h2>
${e.description ? html`<p>${e.description}</p>` : ''}
<p>Events: ${e.events.map((type, i) => html`${i > 0 ? ', ' : ''}<code>${type}</code>`)} · ${
    e.app ? html`app ${appLink(apps, e.app)} (its own sessions only)` : 'for the operators (no app)'
  } · created ${when(e.createdAt)}</p>
${endpointState(chrome, e)}
<p>${e.enabled ? post('test', 'Send test event') : ''} ${post('rotate-secret', 'Rotate secret')} ${post(
    'delete',
    'Delete',
  )}</p>
${deliveriesTable(chrome, e, s.deliveries)}</section>`;
}

function secretBox(fresh: FreshSecret | undefined, endpoints: EndpointSummary[]): Html | '' {
  if (!fresh) return '';
  const url = endpoints.find((s) => s.endpoint.id === fresh.endpoint)?.endpoint.url ?? fresh.endpoint;
  const after = fresh.rotated
    ? 'The previous secret signs every delivery beside this one for 24 hours more, then stops: configure the ' +
      'receiver with the new one before then.'
    : 'The receiver verifies each delivery’s signature with it (Standard Webhooks).';
  return html`<div class="box good" role="status"><p><label for="new-secret">Signing secret of <code>${url}</code>
(shown once: copy it now)</label></p>
<input id="new-secret" class="copy" readonly value="${fresh.secret}"><p>${after}</p></div>`;
}

function eventBoxes(form: FormState | undefined): Html {
  const chosen = new Set((form?.values.events ?? '').split(','));
  const error = form?.errors.events;
  const boxes = SUBSCRIBABLE.map((type) => {
    const only = operatorOnly(type) ? ' (endpoints without an app)' : '';
    const hint = `${EVENT_HINTS[type as keyof typeof EVENT_HINTS]}${only}`;
    return html`<span><span><input type="checkbox" id="w-ev-${type}" name="events" value="${type}"
aria-describedby="w-ev-${type}-hint"${chosen.has(type) ? html` checked` : ''}>
<label for="w-ev-${type}"><code>${type}</code></label></span><small id="w-ev-${type}-hint" class="muted">${hint}</small>
</span>`;
  });
  return html`<fieldset${error ? html` aria-describedby="w-events-error"` : ''}><legend>Events</legend>${boxes}${
    error ? html`<span id="w-events-error" class="field-error">Events: ${error}</span>` : ''
  }</fieldset>`;
}

function appSelect(apps: Map<string, AppView>, form: FormState | undefined): Html {
  const current = form?.values.app ?? '';
  const error = form?.errors.app;
  const option = (value: string, label: string) =>
    html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<span><label for="w-app">App</label><select id="w-app" name="app"${
    error ? html` aria-invalid="true" aria-describedby="w-app-error"` : ''
  }>${option('', 'none: an operators’ endpoint')}${[...apps.values()].map((a) => option(a.id, a.name))}</select>${
    error ? html`<span id="w-app-error" class="field-error">App: ${error}</span>` : ''
  }</span>`;
}

const URL_FIELD = {
  id: 'w-url',
  name: 'url',
  label: 'URL',
  required: true,
  size: 50,
  hint: 'https (http on loopback)',
};

/** Webhook endpoints with their latest deliveries and actions, and a form for a new one. */
export function webhooksPage(
  chrome: Chrome,
  data: { endpoints: EndpointSummary[]; apps: Map<string, AppView> },
  options: { fresh?: FreshSecret | undefined; form?: FormState | undefined } = {},
): string {
  const { endpoints, apps } = data;
  const list =
    endpoints.length === 0
      ? emptyState(
          'No webhook endpoint yet. A webhook tells another system what happens here as it happens: an app hears ' +
            'that a learner’s session ended, the operators’ tools that a connection is failing or a credential ' +
            'expires. Create one below; the broker signs every delivery with its secret.',
        )
      : endpoints.map((s) => endpointSection(chrome, apps, s));
  const { form } = options;
  return consolePage(
    'Webhooks',
    chrome,
    html`<p class="muted">Each endpoint receives the events it lists as signed POSTs, retried for about a day when it
does not answer 2xx; one whose every delivery failed for 3 days is disabled.</p>
${secretBox(options.fresh, endpoints)}${list}
<h2 id="new-webhook">New endpoint</h2>${formProblem(form, 'The endpoint was not created.')}
<form method="post" action="/console/webhooks" aria-labelledby="new-webhook">${csrfField(chrome)}<fieldset>
${textField({ ...URL_FIELD, form })}
${textField({ id: 'w-description', name: 'description', label: 'Description', form, size: 30 })}
${appSelect(apps, form)}</fieldset>${eventBoxes(form)}
<button type="submit">Create endpoint</button></form>`,
  );
}
