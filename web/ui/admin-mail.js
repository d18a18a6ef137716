// The administrators' email settings of the organisation: the language of the emails Bureau
// sends (invitations, support) and where support requests go.

import * as api from '/client/api.js';
import { h, field, clearErrors, setFieldError } from '/ui/dom.js';
import { saveOrgSettings } from '/ui/org-settings.js';

const LANGUAGES = [
  { value: 'en', label: 'English' },
  { value: 'de', label: 'Deutsch' },
];

/**
 * The "Email and support" settings card.
 * @param {import('/app.js').Context} ctx
 * @param {api.Org} org
 * @returns {HTMLElement}
 */
export function mailSettingsCard(ctx, org) {
  let current = org;
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save email settings');
  const languageField = field({
    name: 'language', label: 'Email language', type: 'select', value: org.language || 'en', options: LANGUAGES,
    hint: 'The language of invitations, support notifications and answers.',
  });
  const supportField = field({
    name: 'support_email', label: 'Support email address', type: 'email', value: org.support_email || '',
    autocomplete: 'email', attrs: { inputmode: 'email', maxlength: '254' },
    hint: 'Where “Help & support” requests are sent. Leave empty to send them to every administrator.',
  });
  const form = h('form', { class: 'mail-form', novalidate: true, 'aria-label': 'Email settings' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' }, languageField, supportField),
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const language = String(data.get('language') || 'en') === 'de' ? 'de' : 'en';
    const supportEmail = String(data.get('support_email') || '').trim();
    if (supportEmail && !/^[^\s@]+@[^\s@]+$/.test(supportEmail)) {
      return void setFieldError(form, 'support_email', 'Enter a valid email address, or leave the field empty.');
    }
    /** @type {{language?: 'en'|'de', support_email?: string|null}} */
    const patch = {};
    if (language !== (current.language || 'en')) patch.language = language;
    if ((supportEmail || null) !== (current.support_email || null)) patch.support_email = supportEmail || null;
    const saved = await saveOrgSettings(form, save, patch, 'Email settings saved.');
    if (saved) ctx.org = current = saved;
  });
  return h('section', { class: 'card', 'aria-labelledby': 'mail-title' },
    h('h2', { id: 'mail-title' }, 'Email and support'), form);
}
