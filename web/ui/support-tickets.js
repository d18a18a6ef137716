// Support tickets as a list of conversations, shared by the "Help & support" page and the
// administrators' support section: each ticket shows its messages, an answer form for
// administrators and a "Mark as resolved" button while it is open.

import * as joining from '/client/joining-api.js';
import { h, uid, busy, clearErrors, setFieldError, setFormError, toast } from '/ui/dom.js';

/**
 * @typedef {object} TicketListOptions
 * @property {boolean} asAdmin Show the answer form (administrators).
 * @property {string} meId The signed-in user's id ("You" in the conversation).
 * @property {Map<string, string>} [names] Authors' names by user id (administrators).
 * @property {string} emptyText Shown when there is no ticket.
 * @property {(ticket: joining.Ticket) => void} [onChange] After an answer or resolution.
 */

/**
 * A list of tickets, open ones first, newest first.
 * @param {joining.Ticket[]} tickets
 * @param {TicketListOptions} options
 * @returns {HTMLElement}
 */
export function ticketList(tickets, options) {
  if (tickets.length === 0) return h('p', { class: 'empty ticket-empty' }, options.emptyText);
  const sorted = [...tickets].sort((a, b) => Number(a.status === 'resolved') - Number(b.status === 'resolved') || b.created_at - a.created_at);
  return h('ul', { class: 'tickets' }, sorted.map((t) => h('li', {}, ticketView(t, options))));
}

/**
 * One ticket: subject, status, conversation and actions.
 * @param {joining.Ticket} ticket
 * @param {TicketListOptions} options
 * @returns {HTMLElement}
 */
export function ticketView(ticket, options) {
  const titleId = uid('ticket');
  const author = authorName(ticket, options);
  const open = ticket.status === 'open';
  const node = h('article', { class: 'ticket' + (open ? '' : ' resolved'), 'aria-labelledby': titleId, dataset: { ticketId: ticket.id } },
    h('div', { class: 'ticket-head' },
      h('h3', { id: titleId }, ticket.subject),
      h('span', { class: 'badge ' + (open ? 'open' : 'resolved') }, open ? 'Open' : 'Resolved')),
    h('p', { class: 'ticket-meta muted' },
      options.asAdmin ? `From ${author} · ` : '',
      `Sent ${when(ticket.created_at)}`,
      ticket.resolved_at ? ` · resolved ${when(ticket.resolved_at)}` : ''),
    h('ol', { class: 'conversation', 'aria-label': 'Conversation' }, ticket.messages.map((m) => h('li', { class: 'message from-' + m.from },
      h('div', { class: 'message-who' },
        h('strong', {}, m.from === 'support' ? 'Support' : author),
        h('time', { datetime: new Date(m.at).toISOString() }, when(m.at))),
      h('p', { class: 'message-text' }, m.text)))));
  /** @param {joining.Ticket} fresh */
  const replace = (fresh) => {
    const next = ticketView(fresh, options);
    node.replaceWith(next);
    if (options.onChange) options.onChange(fresh);
    const heading = /** @type {HTMLElement|null} */ (next.querySelector('h3'));
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  };
  const form = open && options.asAdmin ? answerForm(ticket, author, replace) : null;
  if (form) node.append(form);
  if (open) {
    const resolve = h('button', { type: 'button', class: 'button small' }, 'Mark as resolved');
    resolve.setAttribute('aria-label', `Mark “${ticket.subject}” as resolved`);
    resolve.addEventListener('click', () => void busy(resolve, async () => {
      try {
        const fresh = await joining.resolveTicket(ticket.id);
        toast('The request is marked as resolved.', 'success');
        replace(fresh);
      } catch (err) {
        toast(joining.describe(err), 'error');
      }
    }));
    // Beside "Send answer" for administrators, alone otherwise.
    const formActions = form ? form.querySelector('.form-actions') : null;
    if (formActions) formActions.prepend(resolve);
    else node.append(h('div', { class: 'ticket-actions' }, resolve));
  }
  return node;
}

/**
 * The administrators' answer form; the server emails the answer to the author.
 * @param {joining.Ticket} ticket
 * @param {string} author
 * @param {(fresh: joining.Ticket) => void} replace
 * @returns {HTMLFormElement}
 */
function answerForm(ticket, author, replace) {
  const id = uid('answer');
  const textarea = h('textarea', { id, name: 'message', rows: '3', required: true, maxlength: '10000', 'aria-describedby': `${id}-hint ${id}-error` });
  const send = h('button', { type: 'submit', class: 'button primary small' }, 'Send answer');
  const form = h('form', { class: 'answer-form', novalidate: true, 'aria-label': `Answer “${ticket.subject}”` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'field', dataset: { field: 'message' } },
      h('label', { for: id }, 'Your answer'),
      textarea,
      h('p', { class: 'hint', id: `${id}-hint` }, `Emailed to ${author} and kept with the request.`),
      h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true })),
    h('div', { class: 'form-actions' }, send));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const message = textarea.value.trim();
    if (!message) return void setFieldError(form, 'message', 'Write an answer first.');
    await busy(send, async () => {
      try {
        const fresh = await joining.answerTicket(ticket.id, message);
        toast(`Your answer was sent to ${author}.`, 'success');
        replace(fresh);
      } catch (err) {
        if (joining.isMailFailure(err)) {
          // The answer is stored; only its email failed. Show the conversation as it now is.
          const fresh = (await joining.tickets().catch(() => [])).find((t) => t.id === ticket.id);
          if (fresh) replace(fresh);
          toast(`Your answer is saved, but the email to ${author} could not be sent.`, 'error');
          return;
        }
        if (err && typeof err === 'object' && 'field' in err && err.field === 'message') setFieldError(form, 'message', joining.describe(err));
        else setFormError(form, joining.describe(err));
      }
    });
  });
  return form;
}

/**
 * @param {joining.Ticket} ticket
 * @param {TicketListOptions} options
 * @returns {string}
 */
function authorName(ticket, options) {
  if (ticket.user_id && ticket.user_id === options.meId) return 'You';
  if (ticket.user_id && options.names && options.names.has(ticket.user_id)) return /** @type {string} */ (options.names.get(ticket.user_id));
  return ticket.user_id ? 'A colleague' : 'A former user';
}

/**
 * @param {number} ms
 * @returns {string}
 */
function when(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
