// Two-factor sign-in in the browser: the second step of the sign-in page, enrolment when the
// organisation requires it, and the "Security" card of the profile page (authenticator with a
// QR code drawn here, SMS, recovery codes shown once, turning it off).

import { passwordForm } from '/ui/password-form.js';
import * as api from '/client/api.js';
import * as tf from '/client/two-factor-api.js';
import { h, field, busy, clearErrors, setFormError, setFieldError, showError, toast } from '/ui/dom.js';
import { qrSvg } from '/ui/qr.js';

/**
 * A six-digit code field for a form.
 * @param {string} label
 * @returns {HTMLDivElement}
 */
function codeField(label) {
  return field({
    name: 'code', label, required: true, autocomplete: 'one-time-code',
    attrs: { inputmode: 'numeric', pattern: '[0-9]*', maxlength: '6', 'data-autofocus': '' },
  });
}

/**
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {HTMLInputElement}
 */
function input(form, name) {
  return /** @type {HTMLInputElement} */ (form.querySelector(`[name="${name}"]`));
}

/**
 * The second step of a sign-in: a code, a recovery code, or an SMS.
 * @param {tf.Challenge} challenge
 * @param {(user: api.User) => Promise<void>} done Called once signed in.
 * @returns {HTMLFormElement}
 */
export function secondStep(challenge, done) {
  const methods = challenge.methods || [];
  let recovery = !methods.includes('totp') && !methods.includes('sms');
  const title = h('p', { class: 'hint' });
  const submit = h('button', { type: 'submit', class: 'button primary block' }, 'Verify');
  const codeBox = codeField('Code');
  const recoveryBox = field({ name: 'recovery_code', label: 'Recovery code', autocomplete: 'off', attrs: { spellcheck: 'false' } });
  const toggle = h('button', { type: 'button', class: 'button small' });
  const sms = methods.includes('sms') ? h('button', { type: 'button', class: 'button small' }, 'Send a code by SMS') : null;
  const form = h('form', { class: 'login-form second-step', novalidate: true, 'aria-label': 'Second step of the sign-in' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    title, codeBox, recoveryBox, submit,
    h('div', { class: 'form-actions' }, sms, methods.includes('recovery') ? toggle : null));
  const show = () => {
    codeBox.hidden = recovery;
    recoveryBox.hidden = !recovery;
    toggle.textContent = recovery ? 'Use a code instead' : 'Use a recovery code';
    title.textContent = recovery
      ? 'Enter one of your recovery codes. Each code works once.'
      : methods.includes('totp')
        ? 'Enter the 6-digit code from your authenticator app' + (sms ? ', or send yourself a code by SMS.' : '.')
        : 'Send yourself a code by SMS, then enter it here.';
    input(form, recovery ? 'recovery_code' : 'code').focus();
  };
  toggle.addEventListener('click', () => {
    recovery = !recovery;
    clearErrors(form);
    show();
  });
  if (sms) {
    sms.addEventListener('click', () => busy(sms, async () => {
      clearErrors(form);
      try {
        await tf.sendSignInSms(challenge.token);
        recovery = false;
        show();
        toast('A code is on its way to your phone.', 'success');
      } catch (err) {
        setFormError(form, api.describeError(err));
      }
    }));
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const name = recovery ? 'recovery_code' : 'code';
    const value = input(form, name).value.trim();
    if (!value) {
      setFieldError(form, name, recovery ? 'Enter a recovery code.' : 'Enter the code.');
      return;
    }
    await busy(submit, async () => {
      try {
        await done(await tf.completeSignIn(challenge.token, { [name]: value }));
      } catch (err) {
        input(form, name).value = '';
        setFormError(form, stepError(err));
      }
    });
  });
  queueMicrotask(show);
  return form;
}

/**
 * The sign-in step of a user whose organisation requires an authenticator they lack.
 * @param {tf.Challenge} challenge
 * @param {(user: api.User) => Promise<void>} done Called once signed in.
 * @returns {Promise<HTMLElement>}
 */
export async function requiredEnrolment(challenge, done) {
  const enrolment = await tf.startRequiredTotp(challenge.token);
  const host = h('div', { class: 'second-step' },
    h('p', { class: 'notice' }, 'Your organisation requires two-factor sign-in. Set up an authenticator app to continue.'));
  host.append(totpForm(enrolment, (code) => tf.confirmRequiredTotp(challenge.token, code), async (answer) => {
    host.replaceChildren(recoveryCodesView(answer.recovery_codes, () => done(answer.user)));
  }));
  return host;
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function stepError(err) {
  if (err instanceof api.ApiError && err.code === 'invalid_token') return 'This sign-in has expired. Go back and sign in again.';
  return api.describeError(err);
}

/**
 * Scan-or-type instructions for a new authenticator, and a code field that confirms it.
 * @template T
 * @param {tf.TotpEnrolment} enrolment
 * @param {(code: string) => Promise<T>} confirm
 * @param {(answer: T) => Promise<void>|void} confirmed
 * @returns {HTMLFormElement}
 */
function totpForm(enrolment, confirm, confirmed) {
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Confirm');
  const form = h('form', { class: 'totp-form', novalidate: true, 'aria-label': 'Set up an authenticator app' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('p', {}, 'Scan this code with an authenticator app (for example FreeOTP, Aegis or Google Authenticator):'),
    h('div', { class: 'qr-box' }, qrSvg(enrolment.otpauth_uri, 'QR code for your authenticator app')),
    h('p', { class: 'hint' }, 'Or type this key into the app: ', h('code', { class: 'totp-secret', text: group(enrolment.secret) })),
    codeField('Code shown by the app'),
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const code = input(form, 'code').value.trim();
    if (!/^\d{6}$/.test(code)) {
      setFieldError(form, 'code', 'Enter the 6-digit code.');
      return;
    }
    await busy(submit, async () => {
      try {
        await confirmed(await confirm(code));
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}

/**
 * @param {string} secret
 * @returns {string} The secret in groups of four, as apps show it.
 */
function group(secret) {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

/**
 * The recovery codes, shown once, with copy and download.
 * @param {string[]} codes
 * @param {() => void|Promise<void>} done
 * @returns {HTMLElement}
 */
export function recoveryCodesView(codes, done) {
  const text = codes.join('\n') + '\n';
  const copy = h('button', { type: 'button', class: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('Recovery codes copied.', 'success');
    } catch {
      toast('Copying is not allowed here: select the codes and copy them by hand.');
    }
  });
  const download = h('a', { class: 'button', download: 'bureau-recovery-codes.txt', href: 'data:text/plain;charset=utf-8,' + encodeURIComponent(text) }, 'Download');
  const finish = h('button', { type: 'button', class: 'button primary' }, 'I have saved them');
  finish.addEventListener('click', () => done());
  return h('section', { class: 'recovery-codes', 'aria-labelledby': 'recovery-title' },
    h('h3', { id: 'recovery-title' }, 'Your recovery codes'),
    h('p', { class: 'notice warning' }, 'Keep these codes somewhere safe. Each one signs you in once if you lose your phone. They are shown only now.'),
    h('ul', { class: 'code-list', 'aria-label': 'Recovery codes' }, codes.map((c) => h('li', {}, h('code', { text: c })))),
    h('div', { class: 'form-actions' }, copy, download, finish));
}

/**
 * The "Security" card of the profile page.
 * @returns {HTMLElement}
 */
export function securityCard() {
  const body = h('div', { 'aria-live': 'polite' });
  const password = passwordForm('Change password', () => toast('Your password was changed. Other devices were signed out.', 'success'));
  const card = h('section', { class: 'card security', 'aria-labelledby': 'security-title' },
    h('h2', { id: 'security-title' }, 'Security'), body,
    h('details', { class: 'change-password' }, h('summary', {}, 'Change password'), password));
  const redraw = async () => {
    try {
      body.replaceChildren(overview(await tf.status(), body, redraw));
    } catch (err) {
      body.replaceChildren(h('p', { role: 'alert', class: 'field-error' }, api.describeError(err)));
    }
  };
  redraw();
  return card;
}

/**
 * @param {tf.TwoFactorStatus} s
 * @param {HTMLElement} body
 * @param {() => Promise<void>} redraw
 * @returns {HTMLElement}
 */
function overview(s, body, redraw) {
  const on = s.totp || s.sms;
  const showCodes = (/** @type {string[]} */ codes) => body.replaceChildren(recoveryCodesView(codes, redraw));
  const addTotp = h('button', { type: 'button', class: 'button' }, s.totp ? 'Replace authenticator' : 'Set up an authenticator app');
  addTotp.addEventListener('click', () => busy(addTotp, async () => {
    try {
      const enrolment = await tf.startTotp();
      body.replaceChildren(totpForm(enrolment, tf.confirmTotp, showCodes), cancel(redraw));
      input(/** @type {HTMLFormElement} */ (body.querySelector('form')), 'code').focus();
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  }));
  const addSms = h('button', { type: 'button', class: 'button' }, s.sms ? 'Change phone' : 'Use SMS codes');
  addSms.addEventListener('click', () => {
    body.replaceChildren(smsForm(showCodes), cancel(redraw));
    input(/** @type {HTMLFormElement} */ (body.querySelector('form')), 'phone').focus();
  });
  const off = on ? h('button', { type: 'button', class: 'button danger' }, 'Turn off two-factor sign-in') : null;
  off?.addEventListener('click', () => {
    body.replaceChildren(disableForm(redraw), cancel(redraw));
    input(/** @type {HTMLFormElement} */ (body.querySelector('form')), 'password').focus();
  });
  return h('div', {},
    h('p', { class: on ? 'notice' : 'notice warning' }, on
      ? 'Two-factor sign-in is on.'
      : s.required ? 'Your organisation requires two-factor sign-in.' : 'Two-factor sign-in is off: your password alone signs you in.'),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Authenticator app'), h('dd', {}, s.totp ? 'Set up' : 'Not set up')),
      h('div', {}, h('dt', {}, 'SMS codes'), h('dd', {}, s.sms ? 'To the number ending in ' + (s.phone_ending || '…') : 'Not set up')),
      on ? h('div', {}, h('dt', {}, 'Recovery codes left'), h('dd', {}, String(s.recovery_codes_left))) : null),
    h('div', { class: 'form-actions' }, addTotp, addSms, off));
}

/**
 * @param {() => Promise<void>} redraw
 * @returns {HTMLButtonElement}
 */
function cancel(redraw) {
  const button = h('button', { type: 'button', class: 'button small space-top' }, 'Cancel');
  button.addEventListener('click', () => { redraw(); });
  return button;
}

/**
 * Enrols a phone: number, then the texted code.
 * @param {(codes: string[]) => void} confirmed
 * @returns {HTMLFormElement}
 */
function smsForm(confirmed) {
  let sent = false;
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Send code');
  const codeBox = codeField('Code from the SMS');
  codeBox.hidden = true;
  const form = h('form', { class: 'sms-form', novalidate: true, 'aria-label': 'Use SMS codes' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'phone', label: 'Mobile number', type: 'tel', autocomplete: 'tel', hint: 'International form, e.g. +49 151 12345678. Only this number and the code go to the SMS provider.' }),
    codeBox, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(submit, async () => {
      try {
        if (!sent) {
          await tf.startSms(input(form, 'phone').value.trim());
          sent = true;
          codeBox.hidden = false;
          submit.textContent = 'Confirm';
          input(form, 'code').focus();
        } else {
          confirmed(await tf.confirmSms(input(form, 'code').value.trim()));
        }
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}

/**
 * Turns two-factor sign-in off after the password.
 * @param {() => Promise<void>} redraw
 * @returns {HTMLFormElement}
 */
function disableForm(redraw) {
  const submit = h('button', { type: 'submit', class: 'button danger' }, 'Turn off');
  const form = h('form', { novalidate: true, 'aria-label': 'Turn off two-factor sign-in' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'password', label: 'Your password', type: 'password', required: true, autocomplete: 'current-password' }),
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(submit, async () => {
      try {
        await tf.disable(input(form, 'password').value);
        toast('Two-factor sign-in is off.', 'success');
        await redraw();
      } catch (err) {
        setFormError(form, err instanceof api.ApiError && err.code === 'invalid_credentials' ? 'The password is not correct.' : api.describeError(err));
      }
    });
  });
  return form;
}
