// The privacy centre (`/privacy-centre`): what Bureau knows about the signed-in user, a download
// of all of it, restriction of processing and objections, privacy requests, sign-ins and calls,
// and erasure of the account. See docs/privacy.md for what each right does on the server.

import * as api from '/client/api.js';
import * as privacy from '/client/privacy-api.js';
import { h, uid, busy, openDialog, toast } from '/ui/dom.js';
import { runningOffice } from '/live/live-office.js';
import { requestForm, ownRequestList, when } from '/ui/privacy-requests.js';
import { openEraseDialog } from '/ui/privacy-erase.js';

/** The optional processings one may object to, and what an objection does. */
const OBJECTIONS = /** @type {{value: privacy.Objection, label: string, hint: string}[]} */ ([
  {
    value: 'extended_profile', label: 'Extended profile',
    hint: 'Your title, username, deputy, work location, qualification, phone numbers, device and weekly hours are deleted and cannot be filled in again.',
  },
  {
    value: 'call_logs', label: 'My name in call logs',
    hint: 'Calls you take part in are logged with an anonymous participant instead of you.',
  },
  {
    value: 'attendance', label: 'Attendance times',
    hint: 'Your presence times are not recorded for attendance overviews.',
  },
]);

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  /** @template T @param {Promise<T>} p @param {T} fallback @returns {Promise<T>} */
  const orElse = (p, fallback) => p.catch(() => fallback);
  const [settings, requests, signIns, calls] = await Promise.all([
    privacy.settings(), orElse(privacy.requests(), []), orElse(api.accessLog(), []), orElse(api.myCalls(), []),
  ]);
  let mine = requests.filter((r) => r.user_id === me.id);

  const requestHost = h('div', {}, ownRequestList(mine));
  const openCount = h('span', {});
  const countOpen = () => {
    const n = mine.filter((r) => r.status === 'open').length;
    openCount.textContent = `${n} open privacy request${n === 1 ? '' : 's'}`;
  };
  countOpen();
  const form = requestForm((filed) => {
    mine = [filed, ...mine];
    requestHost.replaceChildren(ownRequestList(mine));
    countOpen();
  });

  return h('section', { class: 'page medium privacy-centre' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', {}, 'Privacy centre'),
        h('p', {}, 'What Bureau knows about you, and your rights over it.'))),
    h('section', { class: 'card', 'aria-labelledby': 'pc-known-title' },
      h('h2', { id: 'pc-known-title' }, 'What Bureau knows about you'),
      h('dl', { class: 'facts' },
        fact('Account', `${me.name} · ${me.email}`),
        fact('Sign-ins', h('a', { href: '#pc-signins-title' }, `${signIns.length} in the access log`)),
        fact('Calls', h('a', { href: '#pc-calls-title' }, `${calls.length} in your call history`)),
        fact('Requests', h('a', { href: '#pc-requests-title' }, openCount))),
      h('p', { class: 'hint space-top' }, 'Bureau never stores the contents of calls, and it cannot read your messages or files: they are end-to-end encrypted, and what waits for an offline colleague waits as ciphertext only their devices open, deleted once fetched. Everything else it holds about you is in the download below. ',
        h('a', { href: '/privacy' }, 'Read the privacy policy'), '.')),
    exportCard(),
    settingsCard(settings),
    h('section', { class: 'card', 'aria-labelledby': 'pc-requests-title' },
      h('h2', { id: 'pc-requests-title' }, 'My requests'),
      h('p', { class: 'hint' }, 'Ask your organisation for anything you cannot do here, for example to correct your email address or personnel ID. It must answer within one month.'),
      form,
      h('h3', { class: 'space-top' }, 'Filed requests'),
      requestHost),
    signInsCard(signIns),
    callsCard(calls, me.id),
    h('section', { class: 'card danger-zone', 'aria-labelledby': 'pc-delete-title' },
      h('h2', { id: 'pc-delete-title' }, 'Delete my account'),
      h('p', {}, 'Erases your account and the personal data that belongs to it, at once and for good. You will be signed out.'),
      h('button', { type: 'button', class: 'button danger', 'aria-haspopup': 'dialog', onclick: () => openEraseDialog(ctx) }, 'Delete my account…')));
}

/**
 * @param {string} label
 * @param {import('/ui/dom.js').Children} value
 * @returns {HTMLElement}
 */
function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

/** @returns {HTMLElement} The download of the export. */
function exportCard() {
  const button = h('button', { type: 'button', class: 'button primary' }, 'Download my data');
  button.addEventListener('click', () => void busy(button, async () => {
    try {
      const blob = await privacy.exportBlob();
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: 'bureau-export.json', hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      toast('Your data was downloaded as bureau-export.json.', 'success');
    } catch (err) {
      toast(privacy.describe(err), 'error');
    }
  }));
  return h('section', { class: 'card', 'aria-labelledby': 'pc-export-title' },
    h('h2', { id: 'pc-export-title' }, 'Download my data'),
    h('p', {}, 'One JSON file with everything Bureau holds about you: your profile, registration, sign-ins, calls, message and file logs, support and privacy requests, who received your data, and how long each kind is kept. Other programs can read it (right of access and portability).'),
    h('div', { class: 'form-actions' }, button));
}

/**
 * Restriction of processing and objections.
 * @param {privacy.PrivacySettings} initial
 * @returns {HTMLElement}
 */
function settingsCard(initial) {
  let current = initial;
  const switchId = uid('restrict');
  const restrict = h('input', { type: 'checkbox', id: switchId, role: 'switch', checked: current.restricted, 'aria-describedby': switchId + '-hint' });
  const state = h('p', { class: 'notice warning', role: 'status', hidden: !current.restricted },
    'Processing of your data is restricted: colleagues do not see you and you are not in the live office.');
  /** @param {privacy.PrivacySettings} fresh */
  const apply = (fresh) => {
    current = fresh;
    restrict.checked = fresh.restricted;
    state.hidden = !fresh.restricted;
    const office = runningOffice();
    if (office) office.setRestricted(fresh.restricted);
  };
  restrict.addEventListener('change', () => {
    const wanted = restrict.checked;
    restrict.checked = current.restricted; // changes only once confirmed and saved
    if (wanted) confirmRestriction(async () => apply(await privacy.updateSettings({ restricted: true })));
    else {
      void privacy.updateSettings({ restricted: false }).then((fresh) => {
        apply(fresh);
        toast('The restriction is lifted. You are back in the office.', 'success');
      }, (err) => toast(privacy.describe(err), 'error'));
    }
  });

  const boxes = OBJECTIONS.map((o) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'objections', value: o.value, checked: current.objections.includes(o.value) }),
    h('span', {}, o.label, h('small', {}, o.hint))));
  const save = h('button', { type: 'submit', class: 'button' }, 'Save objections');
  const form = h('form', { class: 'objections-form', novalidate: true, 'aria-label': 'Objections' },
    h('fieldset', { class: 'fieldset' }, h('legend', {}, 'I object to'), boxes),
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = /** @type {privacy.Objection[]} */ ([...form.querySelectorAll('input[name="objections"]:checked')]
      .map((el) => /** @type {HTMLInputElement} */ (el).value));
    void busy(save, async () => {
      try {
        apply(await privacy.updateSettings({ objections: chosen }));
        toast('Your objections were saved.', 'success');
      } catch (err) {
        toast(privacy.describe(err), 'error');
      }
    });
  });

  return h('section', { class: 'card', 'aria-labelledby': 'pc-settings-title' },
    h('h2', { id: 'pc-settings-title' }, 'My privacy settings'),
    state,
    h('div', { class: 'field switch-field' },
      h('label', { for: switchId }, restrict, ' Restrict processing of my data'),
      h('p', { class: 'hint', id: switchId + '-hint' }, 'Your data is kept but not used: colleagues no longer find you in the directory and you leave the live office (no presence, calls or messages) until you lift the restriction here.')),
    h('h3', { class: 'space-top' }, 'Objections'),
    h('p', { class: 'hint' }, 'Optional processing you can refuse without giving a reason.'),
    form);
}

/**
 * Explains what restricting does before doing it.
 * @param {() => Promise<void>} confirmAndSave
 */
function confirmRestriction(confirmAndSave) {
  const yes = h('button', { type: 'button', class: 'button primary' }, 'Restrict processing');
  const { close } = openDialog({
    title: 'Restrict processing of your data?',
    className: 'confirm',
    body: [
      h('p', {}, 'While processing is restricted, Bureau keeps your data but does not use it:'),
      h('ul', {},
        h('li', {}, 'colleagues no longer see you in the directory or the office;'),
        h('li', {}, 'you leave the live office at once: a call you are in ends, and you cannot call, message or send files;'),
        h('li', {}, 'you stay signed in and can use this privacy centre and your profile.')),
      h('p', {}, 'You can lift the restriction here at any time.'),
    ],
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), yes],
  });
  yes.focus();
  yes.addEventListener('click', () => void busy(yes, async () => {
    try {
      await confirmAndSave();
      close();
      toast('Processing of your data is restricted.', 'success');
    } catch (err) {
      toast(privacy.describe(err), 'error');
    }
  }));
}

/**
 * @param {api.AccessEntry[]} entries
 * @returns {HTMLElement}
 */
function signInsCard(entries) {
  const recent = entries.slice(0, 10);
  return h('section', { class: 'card', 'aria-labelledby': 'pc-signins-title' },
    h('h2', { id: 'pc-signins-title' }, 'My sign-ins'),
    recent.length === 0 ? h('p', { class: 'muted' }, 'No sign-ins recorded.') : h('div', { class: 'table-wrap' },
      h('table', { class: 'responsive' },
        h('caption', { class: 'sr-only' }, 'Your most recent sign-ins'),
        h('thead', {}, h('tr', {}, ['When', 'IP address', 'Browser'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, recent.map((e) => h('tr', {},
          h('td', {}, when(e.at)), h('td', {}, e.ip), h('td', {}, `${e.browser} ${e.browser_version}`.trim())))))),
    h('p', { class: 'hint space-top' }, entries.length > recent.length ? `The ${recent.length} most recent of ${entries.length}. ` : '',
      'Sign-ins are deleted after the retention period your organisation has set. All of them are in the download.'));
}

/**
 * @param {api.CallLog[]} calls
 * @param {string} meId
 * @returns {HTMLElement}
 */
function callsCard(calls, meId) {
  const total = calls.reduce((sum, c) => sum + c.duration_ms, 0);
  const minutes = Math.round(total / 60000);
  const people = new Set(calls.flatMap((c) => c.participants.filter((id) => id !== meId)));
  return h('section', { class: 'card', 'aria-labelledby': 'pc-calls-title' },
    h('h2', { id: 'pc-calls-title' }, 'My calls'),
    calls.length === 0
      ? h('p', { class: 'muted' }, 'No calls recorded.')
      : h('p', {}, `${calls.length} call${calls.length === 1 ? '' : 's'}, ${minutes} minute${minutes === 1 ? '' : 's'} in all, with ${people.size} ${people.size === 1 ? 'person' : 'people'}. The most recent on ${when(Math.max(...calls.map((c) => c.started_at)))}.`),
    h('p', { class: 'hint' }, 'Only who, when, how long and which room are logged — never what was said or shown. The office page lists your recent calls.'));
}
