// "Help & support": send a request to the organisation's support address (or its
// administrators) and follow the conversation. Administrators see every request here and
// answer or resolve them (the support notification email links to this page).

import * as api from '/client/api.js';
import * as joining from '/client/joining-api.js';
import { h, field, busy, clearErrors, setFieldError, showError, toast } from '/ui/dom.js';
import { ticketList } from '/ui/support-tickets.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  const asAdmin = me.role === 'admin';
  const [tickets, names] = await Promise.all([joining.tickets(), asAdmin ? authorNames() : Promise.resolve(new Map())]);
  let current = tickets;

  const listHost = h('div', { class: 'ticket-host' });
  const draw = () => {
    listHost.replaceChildren(ticketList(current, {
      asAdmin,
      meId: me.id,
      names,
      emptyText: asAdmin ? 'No support requests yet.' : 'You have not sent a request yet.',
      onChange: (fresh) => { current = current.map((t) => (t.id === fresh.id ? fresh : t)); },
    }));
  };
  draw();

  const form = requestForm((ticket) => {
    current = [ticket, ...current];
    draw();
  });
  const listTitle = asAdmin ? 'Support requests' : 'Your requests';
  return h('section', { class: 'page medium support' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', {}, 'Help & support'),
        h('p', {}, asAdmin
          ? 'Requests of everyone in your organisation. Your answers are emailed to the person who asked.'
          : 'Questions or problems with Bureau? Your organisation’s support team answers here and by email.'))),
    h('section', { class: 'card', 'aria-labelledby': 'support-ask-title' },
      h('h2', { id: 'support-ask-title' }, 'Ask for help'), form),
    h('section', { class: 'card', 'aria-labelledby': 'support-list-title' },
      h('h2', { id: 'support-list-title' }, listTitle), listHost),
    h('p', { class: 'hint space-top' }, 'Resolved requests are deleted after the retention period your organisation has set. See the ',
      h('a', { href: '/privacy' }, 'privacy policy'), '.'));
}

/**
 * The request form.
 * @param {(ticket: joining.Ticket) => void} onSent
 * @returns {HTMLFormElement}
 */
function requestForm(onSent) {
  const subjectField = field({ name: 'subject', label: 'Subject', required: true, attrs: { maxlength: '200' }, hint: 'A short summary, e.g. “Cannot share my screen”.' });
  const messageField = field({ name: 'message', label: 'Message', type: 'textarea', required: true, hint: 'What happened, what you expected, and what you already tried.' });
  const subject = /** @type {HTMLInputElement} */ (subjectField.querySelector('input'));
  const message = /** @type {HTMLTextAreaElement} */ (messageField.querySelector('textarea'));
  message.rows = 5;
  message.maxLength = 10000;
  message.required = true;
  const send = h('button', { type: 'submit', class: 'button primary' }, 'Send request');
  const form = h('form', { class: 'support-form', novalidate: true, 'aria-label': 'Ask for help' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    subjectField, messageField,
    h('div', { class: 'form-actions' }, send));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!subject.value.trim()) return void setFieldError(form, 'subject', 'Enter a subject.');
    if (!message.value.trim()) return void setFieldError(form, 'message', 'Describe your question or problem.');
    await busy(send, async () => {
      try {
        const ticket = await joining.openTicket({ subject: subject.value.trim(), message: message.value.trim() });
        form.reset();
        toast('Your request was sent. You will get the answer by email and here.', 'success');
        onSent(ticket);
      } catch (err) {
        showError(form, err, joining.describe);
      }
    });
  });
  return form;
}

/**
 * Names of the organisation's users by id, for the administrators' view.
 * @returns {Promise<Map<string, string>>}
 */
async function authorNames() {
  try {
    const users = await api.users('');
    return new Map(users.map((u) => [u.id, u.name]));
  } catch {
    return new Map();
  }
}
