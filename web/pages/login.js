// Sign-in page: email and password, a generic message on wrong credentials (no account
// enumeration) and a clear "try again at" message when rate limited; then, when the account
// needs one, the second step (security.js).

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, setFormError, setFieldError } from '/ui/dom.js';
import { secondStep, requiredEnrolment } from '/ui/security.js';
import { signIn } from '/client/two-factor-api.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {HTMLElement}
 */
export function render(ctx) {
  const submit = h('button', { type: 'submit', class: 'button primary block' }, 'Sign in');
  const emailField = field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'username' });
  const email = /** @type {HTMLInputElement} */ (emailField.querySelector('input'));
  email.setAttribute('data-autofocus', '');
  email.setAttribute('inputmode', 'email');
  const passwordField = field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' });
  const password = /** @type {HTMLInputElement} */ (passwordField.querySelector('input'));
  // Shown only when the email and password belong to accounts in several organisations.
  const orgField = field({ name: 'org', label: 'Organisation', autocomplete: 'organization' });
  const org = /** @type {HTMLInputElement} */ (orgField.querySelector('input'));
  orgField.hidden = true;
  const form = h('form', { class: 'login-form', novalidate: true, 'aria-label': 'Sign in' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    emailField, passwordField, orgField, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!email.value.trim()) {
      setFieldError(form, 'email', 'Enter your email address.');
      return;
    }
    if (!password.value) {
      setFieldError(form, 'password', 'Enter your password.');
      return;
    }
    await busy(submit, async () => {
      try {
        const answer = await signIn(email.value.trim(), password.value, orgField.hidden ? undefined : org.value.trim());
        const challenge = answer.second_factor;
        if (!challenge) {
          await ctx.signedIn(/** @type {api.User} */ (answer.user));
          return;
        }
        const next = challenge.enrol_required
          ? await requiredEnrolment(challenge, ctx.signedIn)
          : secondStep(challenge, ctx.signedIn);
        form.replaceWith(next);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'choose_organisation') {
          orgField.hidden = false;
          setFieldError(form, 'org', err.message);
          org.focus();
          return;
        }
        password.value = '';
        setFormError(form, message(err));
        password.focus();
      }
    });
  });

  return h('section', { class: 'auth' },
    h('div', { class: 'auth-head' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'B'),
      h('h1', {}, 'Sign in to Bureau'),
      h('p', {}, 'Your organisation’s virtual office.')),
    h('div', { class: 'card' }, form),
    h('p', { class: 'auth-note' },
      'Bureau keeps your session in a secure cookie. This browser’s local storage holds only display preferences such as the colour theme — no personal data.'));
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function message(err) {
  if (err instanceof api.ApiError) {
    if (err.code === 'invalid_credentials' || err.status === 401) return 'The email address or password is not correct.';
    if (err.code === 'invalid' || err.status === 422) return 'Enter a valid email address and your password.';
  }
  return api.describeError(err);
}
