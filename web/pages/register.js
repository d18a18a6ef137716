// Registration through an invitation link (`/register#token=...`). The app shell has already
// taken the token out of the address bar (app.js, `takeSetupToken`). The invitee sees the
// organisation, their name (editable) and email (fixed), reads the privacy policy and terms of
// use right here, accepts them, chooses a password and is signed in.

import * as api from '/client/api.js';
import * as joining from '/client/joining-api.js';
import { h, field, uid, busy, clearErrors, setFieldError, showError, toast } from '/ui/dom.js';
import { attachStrengthMeter } from '/ui/fields-ui.js';
import { privacyPolicy, termsOfUse, LEGAL_PATHS } from '/client/legal-texts.js';
import { documentSections, customSections } from '/pages/legal.js';
import { legal } from '/client/privacy-api.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const token = ctx.setupToken;
  if (!token) {
    return frame('Join Bureau', unusable('This page needs the link from your invitation email. Open the link in the email directly, in full.'));
  }
  /** @type {joining.RegistrationInfo} */
  let info;
  try {
    info = await joining.checkInvitation(token);
  } catch (err) {
    if (joining.isUnusableLink(err)) {
      ctx.setupToken = '';
      return frame('Join Bureau', unusable());
    }
    throw err;
  }
  const texts = await legal(info.org_slug).catch(() => null);
  return frame(`Join ${info.org_name}`, registerForm(ctx, token, info, texts), info.org_name);
}

/**
 * @param {string} title
 * @param {HTMLElement} content
 * @param {string} [orgName]
 * @returns {HTMLElement}
 */
function frame(title, content, orgName) {
  return h('section', { class: 'auth register' },
    h('div', { class: 'auth-head' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'B'),
      h('h1', {}, title),
      h('p', {}, orgName ? `You have been invited to the virtual office of ${orgName}.` : 'Your organisation’s virtual office.')),
    content);
}

/**
 * The friendly explanation for a link that cannot be used.
 * @param {string} [why]
 * @returns {HTMLElement}
 */
function unusable(why) {
  return h('div', { class: 'card register-invalid', role: 'alert' },
    h('h2', {}, 'This invitation link can’t be used'),
    h('p', {}, why || 'It has already been used, it has expired, or the invitation was sent again or withdrawn.'),
    h('p', {}, 'An invitation link works once and for 7 days, and only the newest email’s link works. Please ask the administrator who invited you to resend the invitation — you will get a new email with a fresh link.'),
    h('p', {}, 'Already registered? ', h('a', { href: '/login' }, 'Sign in'), ' with your email address and password.'));
}

/**
 * @param {import('/app.js').Context} ctx
 * @param {string} token
 * @param {joining.RegistrationInfo} info
 * @param {import('/client/privacy-api.js').LegalTexts|null} texts The organisation's own texts, if any.
 * @returns {HTMLElement}
 */
function registerForm(ctx, token, info, texts) {
  const nameField = field({ name: 'name', label: 'Your name', value: info.name, required: true, autocomplete: 'name', hint: 'As your colleagues will see it. You can change it.', attrs: { maxlength: '100' } });
  const emailField = field({ name: 'email', label: 'Email', type: 'email', value: info.email, autocomplete: 'username', hint: 'You sign in with this address.' });
  const passwordField = field({
    name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password',
    hint: 'A passphrase of several words is easy to remember and hard to guess.',
    attrs: { minlength: '10' },
  });
  const confirmField = field({ name: 'confirm', label: 'Confirm password', type: 'password', required: true, autocomplete: 'new-password' });
  const input = (/** @type {HTMLElement} */ f) => /** @type {HTMLInputElement} */ (f.querySelector('input'));
  const name = input(nameField);
  const email = input(emailField);
  email.readOnly = true;
  const password = input(passwordField);
  const confirm = input(confirmField);
  password.setAttribute('data-autofocus', '');

  attachStrengthMeter(password);

  const acceptId = uid('accept');
  const accept = h('input', { type: 'checkbox', id: acceptId, name: 'accept_terms', required: true, 'aria-describedby': acceptId + '-error' });
  const acceptField = h('div', { class: 'field accept', dataset: { field: 'accept_terms' } },
    h('label', { class: 'check', for: acceptId }, accept,
      h('span', {}, 'I have read and accept the privacy policy and the terms of use.')),
    h('p', { class: 'field-error', id: acceptId + '-error', role: 'alert', hidden: true }));

  const submit = h('button', { type: 'submit', class: 'button primary block' }, 'Create my account');
  const form = h('form', { novalidate: true, 'aria-label': `Join ${info.org_name}` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    nameField, emailField, passwordField, confirmField,
    legalBox('Privacy policy', texts && texts.privacy.markdown !== null ? texts.privacy : privacyPolicy(info.org_name), LEGAL_PATHS.privacy),
    legalBox('Terms of use', texts && texts.terms.markdown !== null ? texts.terms : termsOfUse(info.org_name), LEGAL_PATHS.terms),
    acceptField, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!name.value.trim()) return void setFieldError(form, 'name', 'Enter your name.');
    if (password.value.length < 10) return void setFieldError(form, 'password', 'The password needs at least 10 characters.');
    if (confirm.value !== password.value) return void setFieldError(form, 'confirm', 'The passwords do not match.');
    if (!accept.checked) return void setFieldError(form, 'accept_terms', 'Please read and accept the privacy policy and the terms of use to continue.');
    /** @type {{token: string, name?: string, password: string, accept_terms: boolean}} */
    const body = { token, password: password.value, accept_terms: true };
    if (name.value.trim() !== info.name) body.name = name.value.trim();
    await busy(submit, async () => {
      try {
        const user = await joining.register(body);
        ctx.setupToken = '';
        toast(`Welcome to ${info.org_name}, ${user.name}!`, 'success');
        await ctx.signedIn(user);
      } catch (err) {
        if (joining.isUnusableLink(err)) {
          ctx.setupToken = '';
          form.replaceWith(unusable());
          return;
        }
        showError(form, err, api.describeError);
      }
    });
  });
  return h('div', { class: 'card' }, form);
}

/**
 * A legal text in a scrollable, keyboard-focusable box, with a link to its own page.
 * @param {string} label
 * @param {import('/client/legal-texts.js').LegalDocument|import('/client/privacy-api.js').LegalText} doc The default
 *   document, or the organisation's own Markdown text.
 * @param {string} href
 * @returns {HTMLElement}
 */
function legalBox(label, doc, href) {
  const headingId = uid('legal');
  return h('div', { class: 'legal-box-wrap' },
    h('div', { class: 'legal-box-head' },
      h('h2', { id: headingId }, label),
      h('a', { href, target: '_blank', rel: 'noopener' }, 'Open in a new tab', h('span', { class: 'sr-only' }, ` (${label})`))),
    h('div', { class: 'legal-box', tabindex: '0', role: 'region', 'aria-label': label },
      'sections' in doc ? documentSections(doc, 3, headingId) : customSections(doc, 2)));
}
