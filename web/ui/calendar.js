// The "Calendar" card of "My profile": one's own calendar connected (CalDAV or an ICS
// subscription) so that colleagues see when one is in a meeting, the last reading and why it
// failed, what colleagues see and whether knocks ring in meetings, the busy times to come, and
// busy times entered by hand. Of an outside calendar Bureau keeps busy times only; the card
// says so before anyone types a password.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, formValues, openDialog, setFieldError, showError, toast } from '/ui/dom.js';
import { dayTime, formatMoment, formatSpan, isoDay } from '/client/days.js';

/** @type {Record<api.CalendarKind, string>} */
const KIND_LABELS = { caldav: 'CalDAV', ics: 'ICS subscription' };

/**
 * What the connect form asks for, per kind: the address's hint, and whether user name and
 * password are optional (an ICS address usually carries its own secret).
 * @type {Record<api.CalendarKind, {address: string, credentials: string, optional: boolean}>}
 */
const KIND_FORM = {
  caldav: {
    address: 'The address of the calendar itself (a calendar collection) as your provider shows it, e.g. https://cloud.example.org/remote.php/dav/calendars/ada/work/.',
    credentials: 'Those of the calendar account; an app password works where the provider offers one.',
    optional: false,
  },
  ics: {
    address: 'The subscription or “secret iCal” address your calendar program offers: https:// or webcal://.',
    credentials: 'Optional: only if the address asks for them.',
    optional: true,
  },
};

/**
 * The card.
 * @param {api.CalendarView|null} initial Null when it could not be loaded (`loadError` says why).
 * @param {unknown} [loadError]
 * @returns {HTMLElement}
 */
export function calendarCard(initial, loadError) {
  const title = h('h2', { id: 'calendar-title' }, 'Calendar');
  const intro = h('p', {},
    'Connect your calendar so that colleagues see when you are in a meeting; knocks then do not ring unless you let them. ',
    'Bureau keeps only the busy times of your calendar — never titles, attendees or places — and stores the password encrypted.');
  if (!initial) {
    return h('section', { class: 'card calendar-card', 'aria-labelledby': 'calendar-title' }, title, intro,
      h('p', { class: 'form-error', role: 'alert' }, api.describeError(loadError)));
  }
  let view = initial;

  /** @param {api.CalendarView} next */
  const update = (next) => {
    view = next;
    source.draw(view);
    settings.draw(view);
    entries.draw(view);
  };
  const reload = async () => update(await api.myCalendar());

  const source = sourcePart(update);
  const settings = settingsPart(update);
  const entries = entriesPart(reload);
  update(view);

  return h('section', { class: 'card calendar-card', 'aria-labelledby': 'calendar-title' },
    title, intro,
    source.element,
    settings.element,
    entries.element,
    h('h3', { id: 'calendar-add-title' }, 'Add a busy time'),
    h('p', { class: 'hint space-bottom' }, 'For what is not in a connected calendar: colleagues see you in a meeting then, with the title if you give one.'),
    entryForm(reload));
}

/**
 * @typedef {object} Part
 * @property {HTMLElement} element
 * @property {(view: api.CalendarView) => void} draw
 */

/**
 * The connection: the form to connect a calendar, or what is connected with "Read now" and
 * "Disconnect", and the last reading's error.
 * @param {(view: api.CalendarView) => void} update
 * @returns {Part}
 */
function sourcePart(update) {
  const status = h('p', { class: 'calendar-status', role: 'status', tabindex: '-1' });
  const error = h('p', { class: 'form-error calendar-error', role: 'alert', tabindex: '-1', hidden: true });
  const readNow = h('button', { type: 'button', class: 'button' }, 'Read now');
  const disconnect = h('button', { type: 'button', class: 'button danger', 'aria-haspopup': 'dialog' }, 'Disconnect');
  const connected = h('div', { class: 'calendar-connected' }, status, error, h('div', { class: 'form-actions' }, disconnect, readNow));
  const form = connectForm((view) => {
    update(view);
    toast('Your calendar is connected.', 'success');
    status.focus();
  });

  readNow.addEventListener('click', () => void busy(readNow, async () => {
    try {
      const view = await api.syncCalendar();
      update(view);
      if (view.sync_error) error.focus();
      else toast('Your calendar has been read.', 'success');
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  }));

  disconnect.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'button danger' }, 'Disconnect calendar');
    const cancel = h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel');
    const { close } = openDialog({
      title: 'Disconnect your calendar?',
      className: 'confirm',
      body: h('p', {}, 'Bureau forgets its address, user name and password, and the busy times read from it. Busy times you entered by hand stay.'),
      footer: [cancel, yes],
    });
    cancel.focus();
    yes.addEventListener('click', () => void busy(yes, async () => {
      try {
        await api.disconnectCalendar();
        close();
        update(await api.myCalendar());
        toast('Your calendar has been disconnected.', 'success');
        const first = /** @type {HTMLElement|null} */ (form.querySelector('input[name="kind"]:checked'));
        if (first) first.focus();
      } catch (err) {
        close();
        toast(api.describeError(err), 'error');
      }
    }));
  });

  return {
    element: h('div', { class: 'calendar-source' }, connected, form),
    draw: (view) => {
      const s = view.source;
      connected.hidden = !s;
      form.hidden = Boolean(s);
      if (!s) return;
      const read = view.synced_at ? `last read ${formatMoment(view.synced_at)}` : 'not read yet';
      status.textContent = `Connected to ${s.host} (${KIND_LABELS[s.kind]})${s.username ? ` as ${s.username}` : ''}, ${read}.`;
      error.hidden = !view.sync_error;
      error.textContent = view.sync_error
        ? `The last reading failed: ${fullStop(view.sync_error)} Colleagues see the busy times read before.`
        : '';
    },
  };
}

/**
 * A server's reason (lower case, to follow a colon) with a full stop.
 * @param {string} text
 * @returns {string}
 */
function fullStop(text) {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : t + '.';
}

/**
 * The form to connect a calendar: kind, address, user name and password. The server reads the
 * calendar before it keeps anything, so a wrong address or password is refused here, at once.
 * @param {(view: api.CalendarView) => void} onConnected
 * @returns {HTMLFormElement}
 */
function connectForm(onConnected) {
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Connect calendar');
  const urlField = field({
    name: 'url', label: 'Calendar address', type: 'url', required: true, placeholder: 'https://…', hint: KIND_FORM.caldav.address,
    attrs: { spellcheck: 'false', inputmode: 'url' },
  });
  // Not the browser's saved Bureau password: these are another server's credentials.
  const userField = field({ name: 'username', label: 'User name', attrs: { spellcheck: 'false', autocapitalize: 'off' } });
  const passwordField = field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: KIND_FORM.caldav.credentials });
  const kinds = h('fieldset', { class: 'fieldset field', dataset: { field: 'kind' } },
    h('legend', {}, 'Kind of calendar'),
    h('label', { class: 'check' }, h('input', { type: 'radio', name: 'kind', value: 'caldav', checked: true }),
      h('span', {}, 'CalDAV', h('small', {}, 'A calendar account (Nextcloud, Fastmail, iCloud, mailbox.org…): Bureau asks it for busy times only.'))),
    h('label', { class: 'check' }, h('input', { type: 'radio', name: 'kind', value: 'ics' }),
      h('span', {}, 'ICS subscription', h('small', {}, 'A subscription address (Google, Outlook…): Bureau reads it and keeps only the times.'))),
    h('p', { class: 'field-error', role: 'alert', hidden: true }));
  const form = h('form', { class: 'calendar-connect', novalidate: true, 'aria-label': 'Connect a calendar' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    kinds,
    urlField,
    h('div', { class: 'form-grid' }, userField, passwordField),
    h('div', { class: 'form-actions' }, submit));

  /** @returns {api.CalendarKind} */
  const kind = () => (/** @type {HTMLInputElement|null} */ (form.querySelector('input[name="kind"]:checked'))?.value === 'ics' ? 'ics' : 'caldav');
  // The labels and hints follow the kind: an ICS address needs no user name, mostly.
  const relabel = () => {
    const k = KIND_FORM[kind()];
    /** @type {HTMLElement} */ (urlField.querySelector('.hint')).textContent = k.address;
    /** @type {HTMLElement} */ (passwordField.querySelector('.hint')).textContent = k.credentials;
    /** @type {HTMLElement} */ (userField.querySelector('label')).textContent = k.optional ? 'User name (optional)' : 'User name';
    /** @type {HTMLElement} */ (passwordField.querySelector('label')).textContent = k.optional ? 'Password (optional)' : 'Password';
  };
  kinds.addEventListener('change', relabel);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const url = (v.url || '').trim();
    if (!url) return void setFieldError(form, 'url', 'Enter the calendar’s address.');
    /** @type {api.ConnectCalendar} */
    const body = { kind: kind(), url };
    if (v.username && v.username.trim()) body.username = v.username.trim();
    if (v.password) body.password = v.password;
    await busy(submit, async () => {
      try {
        const view = await api.connectCalendar(body);
        // The password is kept by the server, encrypted; the page forgets it.
        /** @type {HTMLInputElement} */ (form.querySelector('input[name="password"]')).value = '';
        onConnected(view);
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}

/**
 * The two settings, saved as soon as a box changes.
 * @param {(view: api.CalendarView) => void} update
 * @returns {Part}
 */
function settingsPart(update) {
  /**
   * @param {'share_next_busy'|'ring_in_meetings'} name
   * @param {string} label
   * @param {string} hint
   */
  const box = (name, label, hint) => {
    const input = h('input', { type: 'checkbox', name });
    input.addEventListener('change', async () => {
      const wanted = input.checked;
      input.disabled = true;
      try {
        update(await api.updateCalendarSettings({ [name]: wanted }));
        toast('Saved.', 'success');
      } catch (err) {
        input.checked = !wanted;
        toast(api.describeError(err), 'error');
      } finally {
        input.disabled = false;
        input.focus();
      }
    });
    return { input, label: h('label', { class: 'check' }, input, h('span', {}, label, h('small', {}, hint))) };
  };
  const share = box('share_next_busy', 'Show colleagues when I am busy next',
    'Your next busy time shows on your office and your card, with the title of an entry by hand.');
  const ring = box('ring_in_meetings', 'Let knocks ring during meetings',
    'Otherwise a colleague who knocks while you are in a meeting is told that you are busy, and nothing rings.');
  return {
    element: h('fieldset', { class: 'fieldset calendar-settings' }, h('legend', {}, 'While you are busy'), share.label, ring.label),
    draw: (view) => {
      share.input.checked = view.share_next_busy;
      ring.input.checked = view.ring_in_meetings;
    },
  };
}

/**
 * The busy times to come: read from the calendar ("from your calendar") or entered by hand
 * (with their title and Remove).
 * @param {() => Promise<void>} reload
 * @returns {Part}
 */
function entriesPart(reload) {
  const heading = h('h3', { id: 'calendar-entries-title', tabindex: '-1' }, 'Busy times to come');
  const host = h('div', {});
  /**
   * Remove, at once: an entry by hand is quickly made again.
   * @param {api.CalendarEntry} entry
   * @param {string} when
   * @returns {HTMLButtonElement}
   */
  function removeButton(entry, when) {
    const button = h('button', {
      type: 'button', class: 'button small danger', 'aria-label': `Remove the busy time ${when}${entry.title ? ` (${entry.title})` : ''}`,
    }, 'Remove');
    button.addEventListener('click', () => void busy(button, async () => {
      try {
        await api.removeCalendarEntry(entry.id);
        toast('The busy time has been removed.', 'success');
      } catch (err) {
        toast(api.describeError(err), 'error'); // e.g. gone already: the list is read again below
      }
      try {
        await reload();
      } catch (err) {
        toast(api.describeError(err), 'error');
      }
      // The removed entry's button is gone: keyboard focus goes on from the heading.
      heading.focus();
    }));
    return button;
  }

  return {
    element: h('div', { class: 'calendar-entries' }, heading, host),
    draw: (view) => {
      if (view.entries.length === 0) {
        host.replaceChildren(h('p', { class: 'muted' }, 'No busy times coming up.'));
        return;
      }
      host.replaceChildren(h('ul', { class: 'log calendar-list', 'aria-label': 'Busy times to come' }, view.entries.map((e) => {
        const when = spanText(e.starts_at, e.ends_at);
        const what = e.imported ? 'From your calendar' : e.title || 'Entered by hand';
        return h('li', { dataset: { entryId: e.id } },
          h('div', {}, h('div', { class: 'when' }, when), h('div', { class: e.imported ? 'muted' : 'calendar-entry-title' }, what)),
          e.imported ? null : h('div', { class: 'log-right' }, removeButton(e, when)));
      })));
    },
  };
}

/**
 * A busy time for the list: always with its day ("Today 14:00–15:00", "Wed 10 Dec 09:00–10:00").
 * @param {number} startsAt
 * @param {number} endsAt
 * @returns {string}
 */
function spanText(startsAt, endsAt) {
  const span = formatSpan(startsAt, endsAt);
  return isoDay(startsAt) === isoDay(Date.now()) && isoDay(endsAt - 1) === isoDay(startsAt) ? `Today ${span}` : span;
}

/**
 * The form to add a busy time by hand: a day, from and until (local time; an end before the
 * start is on the next day), an optional title.
 * @param {() => Promise<void>} onAdded
 * @returns {HTMLFormElement}
 */
function entryForm(onAdded) {
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Add busy time');
  const form = h('form', { class: 'calendar-entry-form', novalidate: true, 'aria-label': 'Add a busy time' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' },
      h('div', { class: 'span-2' }, field({ name: 'day', label: 'Day', type: 'date', value: isoDay(Date.now()), required: true })),
      field({ name: 'starts_at', label: 'From', type: 'time', required: true }),
      field({ name: 'ends_at', label: 'Until', type: 'time', required: true, hint: 'Earlier than the start: the next day.' }),
      h('div', { class: 'span-2' }, field({
        name: 'title', label: 'Title', attrs: { maxlength: '100' },
        hint: 'Optional, up to 100 characters, e.g. “Client meeting”. Colleagues see it while you are busy.',
      }))),
    h('div', { class: 'form-actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const startsAt = dayTime(v.day, v.starts_at);
    if (Number.isNaN(dayTime(v.day, '00:00'))) return void setFieldError(form, 'day', 'Enter the day.');
    if (Number.isNaN(startsAt)) return void setFieldError(form, 'starts_at', 'Enter the start time.');
    let endsAt = dayTime(v.day, v.ends_at);
    if (Number.isNaN(endsAt)) return void setFieldError(form, 'ends_at', 'Enter the end time.');
    // "22:00 until 01:00" is a night: the end is on the next day. An equal end stays, and the
    // server says it must be after the start.
    if (endsAt < startsAt) endsAt = dayTime(v.day, v.ends_at, 1);
    /** @type {api.NewCalendarEntry} */
    const body = { starts_at: startsAt, ends_at: endsAt };
    if (v.title && v.title.trim()) body.title = v.title.trim();
    await busy(submit, async () => {
      try {
        await api.addCalendarEntry(body);
        /** @type {HTMLInputElement} */ (form.querySelector('input[name="title"]')).value = '';
        toast('The busy time has been added.', 'success');
        await onAdded();
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}
