// The privacy team's tools (administrators and the `manage_privacy` right): the queue of privacy
// requests, earliest deadline first with overdue ones marked, answered in a dialog (done or
// rejected, with a response the server emails); and the audit log of administrative access to
// personal data, with names resolved from the directory.

import * as privacy from '/client/privacy-api.js';
import { h, field, busy, clearErrors, openDialog, setFieldError, showError, toast } from '/ui/dom.js';
import { requestSummary, when } from '/ui/privacy-requests.js';

/** @type {Record<string, string>} */
const ACTIONS = {
  list_users: 'Listed the directory (as administrator)',
  view_user: 'Viewed the record of',
  update_user: 'Changed the record of',
  erase_user: 'Erased the account of',
  view_tickets: 'Read the support requests',
  view_privacy_requests: 'Read the privacy request queue',
  handle_privacy_request: 'Answered a privacy request of',
};

/**
 * @param {Map<string, string>} names
 * @param {string|null} id
 * @returns {string}
 */
function nameOf(names, id) {
  if (!id) return 'a former user';
  return names.get(id) || 'someone not in the directory';
}

/**
 * The request queue: open requests by deadline, then closed ones, newest answer first.
 * @param {privacy.PrivacyRequest[]} requests
 * @param {Map<string, string>} names Users' names by id.
 * @returns {HTMLElement}
 */
export function requestQueue(requests, names) {
  let list = requests;
  const host = h('div', { class: 'request-queue' });
  const count = h('span', { class: 'badge' });
  const draw = () => {
    const open = list.filter((r) => r.status === 'open').sort((a, b) => a.due_at - b.due_at);
    const closed = list.filter((r) => r.status !== 'open').sort((a, b) => (b.handled_at || 0) - (a.handled_at || 0));
    const overdue = open.filter((r) => r.overdue).length;
    count.textContent = `${open.length} open` + (overdue ? `, ${overdue} overdue` : '');
    count.className = 'badge' + (overdue ? ' status-overdue' : open.length ? ' open' : '');
    /** @param {privacy.PrivacyRequest} r */
    const item = (r) => {
      const node = requestSummary(r, nameOf(names, r.user_id));
      if (r.status === 'open') {
        node.append(h('div', { class: 'ticket-actions' }, h('button', {
          type: 'button', class: 'button small primary', 'aria-haspopup': 'dialog',
          'aria-label': `Answer the ${privacy.kindName(r.kind).toLowerCase()} request of ${nameOf(names, r.user_id)}`,
          onclick: () => openAnswer(r, nameOf(names, r.user_id), (fresh) => {
            list = list.map((x) => (x.id === fresh.id ? fresh : x));
            draw();
          }),
        }, 'Answer…')));
      } else if (r.handled_by) {
        node.append(h('p', { class: 'hint' }, `Handled by ${nameOf(names, r.handled_by)}${r.handled_at ? ' on ' + when(r.handled_at) : ''}.`));
      }
      return h('li', {}, node);
    };
    host.replaceChildren(...[
      open.length ? h('ul', { class: 'tickets privacy-requests', 'aria-label': 'Open requests' }, open.map(item)) : h('p', { class: 'muted' }, 'No open requests.'),
      closed.length ? h('details', { class: 'closed-requests space-top' },
        h('summary', {}, `Answered requests (${closed.length})`),
        h('ul', { class: 'tickets privacy-requests' }, closed.map(item))) : null,
    ].filter((n) => n !== null));
  };
  draw();
  return h('section', { class: 'card', 'aria-labelledby': 'pa-queue-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'pa-queue-title' }, 'Requests ', count)),
    h('p', { class: 'hint' }, 'Each request must be answered within one month. Your answer is emailed to the person and shown in their privacy centre.'),
    host);
}

/**
 * The answer dialog: done or rejected, and the response.
 * @param {privacy.PrivacyRequest} r
 * @param {string} from
 * @param {(fresh: privacy.PrivacyRequest) => void} onClosed
 */
function openAnswer(r, from, onClosed) {
  const formId = 'answer-request-form';
  const responseField = field({
    name: 'response', label: 'Answer', type: 'textarea', required: true,
    hint: `Emailed to ${from}. When you reject a request, say why and how to complain to the supervisory authority.`,
  });
  const response = /** @type {HTMLTextAreaElement} */ (responseField.querySelector('textarea'));
  response.rows = 5;
  response.maxLength = 5000;
  const submit = h('button', { type: 'submit', class: 'button primary', form: formId }, 'Send answer');
  const form = h('form', { id: formId, novalidate: true, 'aria-label': 'Answer the request' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    requestSummary(r, from),
    h('fieldset', { class: 'fieldset space-top' },
      h('legend', {}, 'Outcome'),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'outcome', value: 'done', checked: true }),
        h('span', {}, 'Done', h('small', {}, 'The request was carried out.'))),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'outcome', value: 'rejected' }),
        h('span', {}, 'Rejected', h('small', {}, 'The request cannot be granted; the answer explains why.')))),
    responseField);
  const { close } = openDialog({
    title: `Answer the request of ${from}`,
    className: 'wide',
    body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  response.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!response.value.trim()) return void setFieldError(form, 'response', 'Write the answer first.');
    const done = /** @type {HTMLInputElement} */ (form.querySelector('input[name="outcome"]:checked')).value === 'done';
    await busy(submit, async () => {
      try {
        const fresh = await privacy.closeRequest(r.id, done, response.value.trim());
        close();
        toast(`The request of ${from} is closed and the answer was sent.`, 'success');
        onClosed(fresh);
      } catch (err) {
        if (err && typeof err === 'object' && 'status' in err && err.status === 502) {
          close();
          toast(`The request is closed, but the email to ${from} could not be sent.`, 'error');
          const fresh = (await privacy.requests().catch(() => [])).find((x) => x.id === r.id);
          if (fresh) onClosed(fresh);
          return;
        }
        showError(form, err, privacy.describe);
      }
    });
  });
}

/**
 * The audit log, newest first: who, what, whose data, when.
 * @param {privacy.AuditEntry[]} entries
 * @param {Map<string, string>} names
 * @returns {HTMLElement}
 */
export function auditLog(entries, names) {
  const shown = entries.slice(0, 200);
  return h('section', { class: 'card', 'aria-labelledby': 'pa-audit-title' },
    h('h2', { id: 'pa-audit-title' }, 'Audit log'),
    h('p', { class: 'hint' }, 'Every time an administrator or the privacy team looked at or changed someone’s personal data.'),
    shown.length === 0 ? h('p', { class: 'muted' }, 'Nothing recorded yet.') : h('div', { class: 'table-wrap' },
      h('table', { class: 'responsive audit-table' },
        h('caption', { class: 'sr-only' }, 'Administrative access to personal data, newest first'),
        h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Whose data'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, shown.map((e) => h('tr', { dataset: { action: e.action } },
          h('td', {}, h('time', { datetime: new Date(e.at).toISOString() }, when(e.at))),
          h('td', {}, nameOf(names, e.actor_id)),
          h('td', {}, ACTIONS[e.action] || e.action.replace(/_/g, ' ')),
          e.target_id ? h('td', {}, nameOf(names, e.target_id)) : h('td', { class: 'no-target' }, '—')))))),
    entries.length > shown.length ? h('p', { class: 'hint space-top' }, `The ${shown.length} most recent of ${entries.length} entries.`) : null);
}
