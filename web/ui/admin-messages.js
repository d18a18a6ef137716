// The administrators' messaging settings of the organisation (docs/messaging.md): whether
// end-to-end encrypted messages may wait on the server for colleagues who are offline, and how
// long a waiting message is kept at most, and the largest file that may wait (uploaded encrypted).

import * as api from '/client/api.js';
import { h, field, clearErrors, setFieldError } from '/ui/dom.js';
import { saveOrgSettings } from '/ui/org-settings.js';

/** The longest retention an organisation may choose (the server's bound too). */
const MAX_DAYS = 365;
/** The largest file limit an organisation may choose, in MiB (the server's bound too). */
const MAX_FILE_MB = 100;

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
    hint: 'A message no device of the recipient fetched in this time is deleted unread, and an uploaded file after this time. Applies to messages sent from now on.',
  });
  const fileMb = field({
    name: 'messages_max_file_mb', label: 'Largest file that may wait (MiB)', type: 'number',
    value: String(org.messages_max_file_mb ?? 25), attrs: { min: '1', max: String(MAX_FILE_MB), inputmode: 'numeric' },
    hint: 'Files for someone offline or for a channel are uploaded encrypted; larger ones travel only while both people are online.',
  });
  const form = h('form', { class: 'messages-form', novalidate: true, 'aria-label': 'Message settings' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'field switch-field' },
      h('label', {},
        h('input', { type: 'checkbox', name: 'messages_store_and_forward', role: 'switch', checked: org.messages_store_and_forward !== false }),
        ' Messages wait for colleagues who are offline'),
      h('p', { class: 'hint' }, 'A message or a file for someone offline waits on this server, end-to-end encrypted for their devices: the server cannot read it, and deletes it once fetched (files: once deleted by their sender or when the time below ends). Off: messages travel only while both people are online, and team channels cannot be written in.')),
    days,
    fileMb,
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
    const maxFile = Number(String(data.get('messages_max_file_mb') || '').trim());
    if (!Number.isInteger(maxFile) || maxFile < 1 || maxFile > MAX_FILE_MB) {
      return void setFieldError(form, 'messages_max_file_mb', `Enter a whole number of MiB from 1 to ${MAX_FILE_MB}.`);
    }
    /** @type {{messages_store_and_forward?: boolean, messages_retention_days?: number, messages_max_file_mb?: number}} */
    const patch = {};
    if (maxFile !== (current.messages_max_file_mb ?? 25)) patch.messages_max_file_mb = maxFile;
    if (storeAndForward !== (current.messages_store_and_forward !== false)) patch.messages_store_and_forward = storeAndForward;
    if (retention !== current.messages_retention_days) patch.messages_retention_days = retention;
    const saved = await saveOrgSettings(form, save, patch, 'Message settings saved.');
    if (saved) ctx.org = current = saved;
  });
  return h('section', { class: 'card', 'aria-labelledby': 'messages-title' },
    h('h2', { id: 'messages-title' }, 'Messages'), form);
}
