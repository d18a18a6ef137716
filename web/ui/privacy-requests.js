// Privacy requests (GDPR art. 12–22) as the person who files them sees them: the form to file
// one (kind and message) and the list with status, deadline and answer. The privacy team's
// queue (admin-privacy.js) draws each request with `requestSummary` too.

import * as privacy from '/client/privacy-api.js';
import { h, field, busy, clearErrors, setFieldError, showError, toast } from '/ui/dom.js';

/**
 * @param {number} ms
 * @returns {string}
 */
export function when(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * @param {number} ms
 * @returns {string}
 */
export function day(ms) {
  return new Date(ms).toLocaleDateString([], { dateStyle: 'medium' });
}

/** @type {Record<string, string>} */
const STATUS_LABELS = { open: 'Open', done: 'Done', rejected: 'Rejected' };

/**
 * The status badge of a request, with "overdue" for open requests past their deadline.
 * @param {privacy.PrivacyRequest} r
 * @returns {HTMLElement}
 */
export function statusBadge(r) {
  if (r.status === 'open' && r.overdue) return h('span', { class: 'badge status-overdue' }, 'Overdue');
  return h('span', { class: 'badge status-' + r.status }, STATUS_LABELS[r.status] || r.status);
}

/**
 * The deadline in words: "Due 3 Dec 2026 · 12 days left" (or "2 days overdue").
 * @param {privacy.PrivacyRequest} r
 * @returns {string}
 */
export function deadlineText(r) {
  if (r.status !== 'open') return r.handled_at ? `Answered ${day(r.handled_at)}` : 'Closed';
  const left = privacy.daysLeft(r.due_at);
  const rest = left > 0 ? `${left} day${left === 1 ? '' : 's'} left` : left === 0 ? 'due today' : `${-left} day${left === -1 ? '' : 's'} overdue`;
  return `Due ${day(r.due_at)} · ${rest}`;
}

/**
 * One request: kind, status, dates, the message and, once closed, the answer.
 * @param {privacy.PrivacyRequest} r
 * @param {string} [from] Who filed it (the privacy team's view).
 * @returns {HTMLElement}
 */
export function requestSummary(r, from) {
  const titleId = 'request-' + r.id;
  return h('article', { class: 'privacy-request' + (r.status === 'open' && r.overdue ? ' overdue' : ''), 'aria-labelledby': titleId, dataset: { requestId: r.id } },
    h('div', { class: 'ticket-head' },
      h('h3', { id: titleId }, privacy.kindName(r.kind), from ? h('span', { class: 'muted' }, ` — ${from}`) : null),
      statusBadge(r)),
    h('p', { class: 'ticket-meta muted' }, `Filed ${when(r.created_at)} · `, h('span', { class: 'deadline' }, deadlineText(r))),
    h('p', { class: 'message-text' }, r.message),
    r.response ? h('div', { class: 'request-answer' },
      h('strong', {}, r.status === 'rejected' ? 'Answer (rejected)' : 'Answer'),
      h('p', { class: 'message-text' }, r.response)) : null);
}

/**
 * The person's own requests, newest first.
 * @param {privacy.PrivacyRequest[]} list
 * @returns {HTMLElement}
 */
export function ownRequestList(list) {
  if (list.length === 0) return h('p', { class: 'muted' }, 'You have not filed a request yet.');
  const sorted = [...list].sort((a, b) => b.created_at - a.created_at);
  return h('ul', { class: 'tickets privacy-requests' }, sorted.map((r) => h('li', {}, requestSummary(r))));
}

/**
 * The form to file a request.
 * @param {(r: privacy.PrivacyRequest) => void} onFiled
 * @returns {HTMLFormElement}
 */
export function requestForm(onFiled) {
  const kindField = field({
    name: 'kind', label: 'What do you ask for?', type: 'select', value: 'access',
    options: privacy.REQUEST_KINDS.map((k) => ({ value: k.value, label: k.label })),
  });
  const messageField = field({
    name: 'message', label: 'Your request', type: 'textarea', required: true,
    hint: 'In your own words, e.g. which data is wrong and what is right. You get the answer by email and here.',
  });
  const kind = /** @type {HTMLSelectElement} */ (kindField.querySelector('select'));
  const message = /** @type {HTMLTextAreaElement} */ (messageField.querySelector('textarea'));
  message.rows = 4;
  message.maxLength = 5000;
  message.required = true;
  const send = h('button', { type: 'submit', class: 'button primary' }, 'File request');
  const form = h('form', { class: 'privacy-request-form', novalidate: true, 'aria-label': 'File a privacy request' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    kindField, messageField,
    h('div', { class: 'form-actions' }, send));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!message.value.trim()) return void setFieldError(form, 'message', 'Describe your request.');
    await busy(send, async () => {
      try {
        const filed = await privacy.fileRequest(/** @type {privacy.RequestKind} */ (kind.value), message.value.trim());
        form.reset();
        toast(`Your request was filed. It is due by ${day(filed.due_at)}.`, 'success');
        onFiled(filed);
      } catch (err) {
        showError(form, err, privacy.describe);
      }
    });
  });
  return form;
}
