// The own-profile editor (only the fields an owner may change), in the extended profile one's
// calendar (busy times colleagues see), and "My sign-ins".

import * as api from '/client/api.js';
import { h, busy, clearErrors, formValues, showError, toast, setFormError } from '/ui/dom.js';
import { editableFields, diffPatch, roleLabel, RIGHTS } from '/client/fields.js';
import { profileFields } from '/ui/editor.js';
import { badges, fullName } from '/ui/people.js';
import { pictureEditor } from '/ui/picture-editor.js';
import { securityCard } from '/ui/security.js';
import { devicesCard } from '/ui/devices.js';
import { runningOffice } from '/live/live-office.js';
import { calendarCard } from '/ui/calendar.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  const office = runningOffice();
  const mode = ctx.org ? ctx.org.profile_mode : 'entry';
  const specs = editableFields(mode, false);
  const colleagues = mode === 'extended' && specs.some((s) => s.kind === 'deputy') ? await api.users('') : [];
  const [[entries, logError], [calendar, calendarError]] = await Promise.all([
    api.accessLog().then(
      (list) => /** @type {[api.AccessEntry[], unknown]} */ ([list, null]),
      (err) => /** @type {[api.AccessEntry[], unknown]} */ ([[], err])),
    // The calendar belongs to the extended profile (the server refuses it in entry mode).
    mode === 'extended'
      ? api.myCalendar().then(
        (view) => /** @type {[api.CalendarView|null, unknown]} */ ([view, null]),
        (err) => /** @type {[api.CalendarView|null, unknown]} */ ([null, err]))
      : /** @type {[api.CalendarView|null, unknown]} */ ([null, null]),
  ]);

  const picture = pictureEditor(ctx, me);
  const summary = h('div', { class: 'detail-head' },
    picture.avatar,
    h('div', {}, h('h2', { class: 'profile-name' }, fullName(me)), h('div', { class: 'person-badges' }, badges(me))));

  const form = buildForm(ctx, me, specs, colleagues, mode, summary);
  return h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'My profile'), h('p', {}, 'How colleagues see you in the directory.'))),
    h('div', { class: 'split' },
      h('div', { class: 'main-column' },
        h('div', { class: 'card' }, summary, picture.controls, form),
        mode === 'extended' ? calendarCard(calendar, calendarError) : null),
      h('div', { class: 'side' },
        h('section', { class: 'card', 'aria-labelledby': 'account-title' },
          h('h2', { id: 'account-title' }, 'Account'),
          h('dl', { class: 'facts' },
            h('div', {}, h('dt', {}, 'Email'), h('dd', {}, me.email)),
            h('div', {}, h('dt', {}, 'Role'), h('dd', {}, roleLabel(me.role))),
            h('div', {}, h('dt', {}, 'Rights'), h('dd', {}, rightsText(me)))),
          h('p', { class: 'hint space-top' }, 'Your email address, role and rights are managed by an administrator.')),
        securityCard(),
        office && me.role !== 'guest' ? devicesCard(office) : null,
        signIns(entries, logError))));
}

/**
 * @param {import('/app.js').Context} ctx
 * @param {api.User} me
 * @param {import('/client/fields.js').FieldSpec[]} specs
 * @param {api.User[]} colleagues
 * @param {api.ProfileMode} mode
 * @param {HTMLElement} summary
 * @returns {HTMLFormElement}
 */
function buildForm(ctx, me, specs, colleagues, mode, summary) {
  let current = me;
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save changes');
  const form = h('form', { class: 'profile-form', novalidate: true, 'aria-label': 'Edit my profile' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    mode === 'entry'
      ? h('p', { class: 'notice' }, 'Your organisation uses the entry profile: only your name, email address and role are stored.')
      : null,
    h('div', { class: 'form-grid' }, profileFields(specs, me, colleagues)),
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const patch = diffPatch(specs, /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (current)), formValues(form));
    if (Object.keys(patch).length === 0) {
      toast('Nothing to save: no field was changed.');
      return;
    }
    if (patch.name === '') {
      setFormError(form, 'Your name cannot be empty.');
      return;
    }
    await busy(save, async () => {
      try {
        current = await api.updateMe(patch);
        ctx.me = current;
        await ctx.refresh();
        const heading = summary.querySelector('h2');
        if (heading) heading.textContent = fullName(current);
        toast('Your profile has been saved.', 'success');
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}

/**
 * @param {api.User} user
 * @returns {string}
 */
function rightsText(user) {
  if (user.role === 'admin') return 'All rights';
  const labels = (user.rights || []).map((r) => RIGHTS.find((x) => x.value === r)?.label || r);
  return labels.length ? labels.join(', ') : 'None beyond the role';
}

/**
 * @param {api.AccessEntry[]} entries
 * @param {unknown} error
 * @returns {HTMLElement}
 */
function signIns(entries, error) {
  const list = [...entries].sort((a, b) => b.at - a.at).slice(0, 50);
  let body;
  if (error) body = h('p', { role: 'alert', class: 'field-error' }, api.describeError(error));
  else if (list.length === 0) body = h('p', { class: 'muted' }, 'No sign-ins recorded.');
  else {
    body = h('ul', { class: 'log', 'aria-label': 'Recent sign-ins' }, list.map((e) => h('li', {},
      h('div', {}, h('div', { class: 'when' }, formatTime(e.at)), h('div', { class: 'muted' }, eventLabel(e.event))),
      h('div', { class: 'log-right' },
        h('div', {}, [e.browser, e.browser_version].filter(Boolean).join(' ') || 'Unknown browser'),
        h('code', {}, e.ip || '')))));
  }
  return h('section', { class: 'card sign-ins', 'aria-labelledby': 'sign-ins-title' },
    h('h2', { id: 'sign-ins-title' }, 'My sign-ins'),
    h('p', { class: 'hint space-bottom' }, 'Recorded for your security and deleted after the retention period.'),
    body);
}

/**
 * @param {number} ms
 * @returns {string}
 */
function formatTime(ms) {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * @param {string} event
 * @returns {string}
 */
function eventLabel(event) {
  /** @type {Record<string, string>} */
  const known = {
    login: 'Signed in', sign_in: 'Signed in', signin: 'Signed in', setup: 'Account created', logout: 'Signed out',
    sign_out: 'Signed out', login_failed: 'Failed sign-in', sign_in_failed: 'Failed sign-in',
    login_totp: 'Signed in with an authenticator code', login_sms: 'Signed in with an SMS code',
    login_recovery: 'Signed in with a recovery code', login_enrol: 'Signed in and set up two-factor sign-in',
  };
  return known[event] || (event ? event.charAt(0).toUpperCase() + event.slice(1).replace(/_/g, ' ') : '');
}
