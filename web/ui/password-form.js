// The form that changes one's own password: on the forced "Choose your password" page (an
// administrator chose the first one) and in the Security card of the profile page.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, setFieldError, showError } from '/ui/dom.js';

/**
 * A form with the current password, the new one and the new one again.
 * @param {string} label The form's name and its button.
 * @param {() => void|Promise<void>} done After the change.
 * @returns {HTMLFormElement}
 */
export function passwordForm(label, done) {
  const submit = h('button', { type: 'submit', class: 'button primary' }, label);
  const form = /** @type {HTMLFormElement} */ (h('form', { novalidate: true, 'aria-label': label },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'current_password', label: 'Current password', type: 'password', required: true, autocomplete: 'current-password' }),
    field({ name: 'password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 10 characters. Other devices signed in to your account are signed out.' }),
    field({ name: 'again', label: 'New password again', type: 'password', required: true, autocomplete: 'new-password' }),
    h('div', { class: 'form-actions' }, submit)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, async () => {
      clearErrors(form);
      const data = new FormData(form);
      const current = String(data.get('current_password') || '');
      const password = String(data.get('password') || '');
      if (!current) return void setFieldError(form, 'current_password', 'Enter your current password.');
      if ([...password].length < 10) return void setFieldError(form, 'password', 'Choose at least 10 characters.');
      if (password !== String(data.get('again') || '')) return void setFieldError(form, 'again', 'The two new passwords differ.');
      try {
        await api.changePassword(current, password);
        form.reset();
        await done();
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}
