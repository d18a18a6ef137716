// First-administrator setup, opened from the one-time link the server prints on its first start
// (`/setup#token=...`). The app shell has already taken the token out of the address bar.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, setFieldError, showError } from '/ui/dom.js';
import { attachStrengthMeter } from '/ui/fields-ui.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const token = ctx.setupToken;
  if (!token) return frame(invalid('This page needs the setup link that the server printed when it started.'));
  let valid = false;
  try {
    valid = await api.checkSetupToken(token);
  } catch (err) {
    if (err instanceof api.ApiError && (err.code === 'invalid_token' || err.status === 410 || err.status === 404)) valid = false;
    else throw err;
  }
  if (!valid) return frame(invalid('This setup link has already been used or has expired.'));
  return frame(setupForm(ctx, token));
}

/**
 * @param {HTMLElement} content
 * @returns {HTMLElement}
 */
function frame(content) {
  return h('section', { class: 'auth' },
    h('div', { class: 'auth-head' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'B'),
      h('h1', {}, 'Welcome to Bureau'),
      h('p', {}, 'Create the first administrator account of your organisation.')),
    content);
}

/**
 * @param {string} why
 * @returns {HTMLElement}
 */
function invalid(why) {
  return h('div', { class: 'card setup-invalid', role: 'alert' },
    h('h2', {}, 'This setup link cannot be used'),
    h('p', {}, why),
    h('p', {}, 'A setup link works once. To get a new one, ask the person who runs the server to restart ',
      h('code', {}, 'bureau serve'), ' while no administrator exists yet — it prints a fresh link — or to create an account on the server with ',
      h('code', {}, 'bureau admin create-user --admin'), '.'),
    h('p', {}, 'If an administrator account already exists, ', h('a', { href: '/login' }, 'sign in'), ' instead.'));
}

/**
 * @param {import('/app.js').Context} ctx
 * @param {string} token
 * @returns {HTMLElement}
 */
function setupForm(ctx, token) {
  const nameField = field({ name: 'name', label: 'Your name', required: true, autocomplete: 'name' });
  const emailField = field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'email' });
  const passwordField = field({
    name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password',
    hint: 'At least 10 characters. A passphrase of several words is easy to remember and hard to guess.',
    attrs: { minlength: '10' },
  });
  const confirmField = field({ name: 'confirm', label: 'Confirm password', type: 'password', required: true, autocomplete: 'new-password' });
  const input = (/** @type {HTMLElement} */ f) => /** @type {HTMLInputElement} */ (f.querySelector('input'));
  const name = input(nameField);
  const email = input(emailField);
  const password = input(passwordField);
  const confirm = input(confirmField);
  name.setAttribute('data-autofocus', '');

  attachStrengthMeter(password);

  const submit = h('button', { type: 'submit', class: 'button primary block' }, 'Create administrator account');
  const form = h('form', { novalidate: true, 'aria-label': 'Create the first administrator' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    nameField, emailField, passwordField, confirmField, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!name.value.trim()) return void setFieldError(form, 'name', 'Enter your name.');
    if (!email.value.trim() || !email.value.includes('@')) return void setFieldError(form, 'email', 'Enter a valid email address.');
    if (password.value.length < 10) return void setFieldError(form, 'password', 'The password needs at least 10 characters.');
    if (confirm.value !== password.value) return void setFieldError(form, 'confirm', 'The passwords do not match.');
    await busy(submit, async () => {
      try {
        const user = await api.setup({ token, name: name.value.trim(), email: email.value.trim(), password: password.value });
        ctx.setupToken = '';
        await ctx.signedIn(user);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'invalid_token') {
          ctx.setupToken = '';
          form.replaceWith(invalid('This setup link has already been used or has expired.'));
          return;
        }
        showError(form, err, api.describeError);
      }
    });
  });
  return h('div', { class: 'card' }, form);
}
