// "Delete my account" (GDPR art. 17): a dialog that says exactly what is erased and what stays
// in anonymised form (docs/privacy.md), confirmed by the password; then the app signs out.

import * as privacy from '/client/privacy-api.js';
import { h, field, busy, clearErrors, openDialog, setFieldError, showError } from '/ui/dom.js';

/**
 * Opens the erasure dialog.
 * @param {import('/app.js').Context} ctx
 */
export function openEraseDialog(ctx) {
  const formId = 'erase-form';
  const passwordField = field({
    name: 'password', label: 'Your password', type: 'password', required: true, autocomplete: 'current-password',
    hint: 'To confirm that it is you.',
  });
  const password = /** @type {HTMLInputElement} */ (passwordField.querySelector('input'));
  const codeField = field({
    name: 'code', label: 'Two-factor code (if you use two-factor sign-in)', autocomplete: 'one-time-code',
    hint: 'A code from your authenticator app, or one of your recovery codes.',
  });
  const code = /** @type {HTMLInputElement} */ (codeField.querySelector('input'));
  const submit = h('button', { type: 'submit', class: 'button danger', form: formId }, 'Delete my account permanently');
  const form = h('form', { id: formId, novalidate: true, 'aria-label': 'Delete my account' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('p', {}, h('strong', {}, 'This cannot be undone.'), ' Download your data first if you want to keep a copy.'),
    h('h3', {}, 'Deleted at once'),
    h('ul', {},
      h('li', {}, 'your account and profile, with your picture and password;'),
      h('li', {}, 'your sessions: you are signed out everywhere;'),
      h('li', {}, 'your access log and registration record;'),
      h('li', {}, 'the invitation you joined with, and your support tickets.')),
    h('h3', {}, 'Kept, without your name'),
    h('ul', {},
      h('li', {}, 'your colleagues’ call, message and file logs keep the entry, but your id in them is replaced by an anonymous one;'),
      h('li', {}, 'privacy requests you filed stay on record for your organisation without naming you.')),
    passwordField, codeField);
  const { close } = openDialog({
    title: 'Delete your account?',
    className: 'confirm erase-dialog',
    body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  password.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!password.value) return void setFieldError(form, 'password', 'Enter your password.');
    await busy(submit, async () => {
      try {
        await privacy.eraseMe(password.value, code.value.trim());
        close();
        ctx.signedOut('Your account has been deleted.');
      } catch (err) {
        showError(form, err, privacy.describe);
      }
    });
  });
}
