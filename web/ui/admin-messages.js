// The administrators' messaging settings of the organisation (docs/messaging.md): whether
// end-to-end encrypted messages may wait on the server for colleagues who are offline, and how
// long a waiting message is kept at most.

import * as api from '/client/api.js';
import { h, field, clearErrors, setFieldError } from '/ui/dom.js';
import { saveOrgSettings } from '/ui/org-settings.js';

/** The longest retention an organisation may choose (the server's bound too). */
const MAX_DAYS = 365;

/**
 * The "Messages" settings card.
 * @param {import('/app.js').Context} ctx
 * @param {api.Org} org
 * @returns {HTMLElement}
 */
export function messagesSettingsCard(ctx, org) {
  let current = org;
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save message settings');
  const days = field({
    name: 'messages_retention_days', label: 'Keep a waiting message at most (days)', type: 'number',
    value: String(org.messages_retention_days ?? 30), attrs: { min: '1', max: String(MAX_DAYS), inputmode: 'numeric' },
    hint: 'A message no device of the recipient fetched in this time is deleted unread. Applies to messages sent from now on.',
  });
  const form = h('form', { class: 'messages-form', novalidate: true, 'aria-label': 'Message settings' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'field switch-field' },
      h('label', {},
        h('input', { type: 'checkbox', name: 'messages_store_and_forward', role: 'switch', checked: org.messages_store_and_forward !== false }),
        ' Messages wait for colleagues who are offline'),
      h('p', { class: 'hint' }, 'A message or a small file for someone offline waits on this server, end-to-end encrypted for their devices: the server cannot read it, and deletes it once fetched. Off: messages travel only while both people are online.')),
    days,
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const storeAndForward = data.get('messages_store_and_forward') === 'on';
    const retention = Number(String(data.get('messages_retention_days') || '').trim());
    if (!Number.isInteger(retention) || retention < 1 || retention > MAX_DAYS) {
      return void setFieldError(form, 'messages_retention_days', `Enter a whole number of days from 1 to ${MAX_DAYS}.`);
    }
    /** @type {{messages_store_and_forward?: boolean, messages_retention_days?: number}} */
    const patch = {};
    if (storeAndForward !== (current.messages_store_and_forward !== false)) patch.messages_store_and_forward = storeAndForward;
    if (retention !== current.messages_retention_days) patch.messages_retention_days = retention;
    const saved = await saveOrgSettings(form, save, patch, 'Message settings saved.');
    if (saved) ctx.org = current = saved;
  });
  return h('section', { class: 'card', 'aria-labelledby': 'messages-title' },
    h('h2', { id: 'messages-title' }, 'Messages'), form);
}
