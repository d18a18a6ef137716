// How presence is shown (dots, labels, location icons, out of office, meetings from the calendar)
// and set (the presence control in the top bar and its dialog).

import { h, openDialog, toast } from '/ui/dom.js';
import { avatarFor } from '/ui/avatar.js';
import { icon } from '/ui/icons.js';
import { formatMoment, formatSpan } from '/client/days.js';

/**
 * @typedef {import('/client/messages.js').UserPresence} UserPresence
 * @typedef {import('/client/messages.js').Availability} Availability
 * @typedef {import('/client/messages.js').Meeting} Meeting
 * @typedef {import('/client/messages.js').NextBusy} NextBusy
 * @typedef {import('/live/live-office.js').Office} Office
 */

/** @type {Record<string, string>} */
export const STATUS_LABELS = {
  online: 'Online', away: 'Away', busy: 'Busy', dnd: 'Do not disturb', offline: 'Offline', in_call: 'In a call',
};

/** @type {Record<string, {icon: string, label: string}>} */
export const LOCATIONS = {
  home_office: { icon: 'home', label: 'Home office' },
  real_office: { icon: 'office', label: 'In the office' },
  on_the_go: { icon: 'go', label: 'On the go' },
};

/**
 * The state a dot shows: being in a call wins over the chosen status (unless offline).
 * @param {UserPresence|undefined} p
 * @returns {string}
 */
export function presenceState(p) {
  if (!p) return 'offline';
  if (p.in_call && p.status !== 'offline') return 'in_call';
  return p.status;
}

/**
 * A presence dot, with its label for screen readers unless the text beside it says it already.
 * @param {UserPresence|undefined} p
 * @param {boolean} [labelled]
 * @returns {HTMLElement}
 */
export function dot(p, labelled = true) {
  const state = presenceState(p);
  return h('span', { class: `dot dot-${state.replace('_', '-')}`, title: STATUS_LABELS[state], dataset: { presence: state } },
    labelled ? h('span', { class: 'sr-only' }, STATUS_LABELS[state]) : null);
}

/**
 * An avatar with the presence dot on its corner.
 * @param {string} userId
 * @param {string} name
 * @param {UserPresence|undefined} p
 * @param {string} [size]
 * @param {boolean} [labelled] Whether the dot names the status for screen readers.
 * @returns {HTMLElement}
 */
export function presenceAvatar(userId, name, p, size, labelled = true) {
  return h('span', { class: 'presence-avatar' },
    avatarFor(userId, name, size),
    dot(p, labelled));
}

/**
 * A meeting going on, for people: "In a meeting until 11:30", "In a meeting: Client meeting,
 * until 11:30".
 * @param {Meeting} meeting
 * @returns {string}
 */
export function meetingText(meeting) {
  const until = formatMoment(meeting.until);
  return meeting.title ? `In a meeting: ${meeting.title}, until ${until}` : `In a meeting until ${until}`;
}

/**
 * A colleague's meeting as the start of a sentence: "Bob is in a meeting (Client meeting) until 11:30".
 * @param {string} name
 * @param {Meeting} meeting
 * @returns {string}
 */
export function inMeeting(name, meeting) {
  return `${name} is in a meeting${meeting.title ? ` (${meeting.title})` : ''} until ${formatMoment(meeting.until)}`;
}

/**
 * The next busy interval, for people: "Busy next 14:00–15:00", "Busy next: Review, 14:00–15:00".
 * @param {NextBusy} next
 * @returns {string}
 */
export function nextBusyText(next) {
  const span = formatSpan(next.starts_at, next.ends_at);
  return next.title ? `Busy next: ${next.title}, ${span}` : `Busy next ${span}`;
}

/**
 * One line about where and how a colleague is: status, a meeting going on, location, out of
 * office with the deputy, the next busy interval, the note.
 * @param {UserPresence|undefined} p
 * @param {(id: string) => string} nameOf
 * @returns {HTMLElement}
 */
export function presenceLine(p, nameOf) {
  const parts = [h('span', { class: 'presence-status' }, STATUS_LABELS[presenceState(p)])];
  // The status the user chose stays during a meeting: the meeting is said beside it.
  if (p && p.meeting) parts.push(h('span', { class: 'presence-meeting' }, meetingText(p.meeting)));
  if (p && p.location && LOCATIONS[p.location]) {
    const loc = LOCATIONS[p.location];
    parts.push(h('span', { class: 'presence-location', title: loc.label }, icon(loc.icon), loc.label));
  }
  if (p && p.out_of_office) {
    const deputy = p.deputy_id ? nameOf(p.deputy_id) : '';
    parts.push(h('span', { class: 'presence-ooo' }, deputy ? `Out of office — deputy: ${deputy}` : 'Out of office'));
  }
  if (p && p.next_busy) parts.push(h('span', { class: 'presence-next-busy' }, nextBusyText(p.next_busy)));
  if (p && p.note) parts.push(h('span', { class: 'presence-note' }, `“${p.note}”`));
  return h('span', { class: 'presence-line' }, parts);
}

/**
 * The presence control of the top bar: shows the own status and opens the presence dialog.
 * @param {Office} office
 * @returns {HTMLElement}
 */
export function presenceControl(office) {
  const button = h('button', { type: 'button', class: 'presence-button', 'aria-haspopup': 'dialog', dataset: { action: 'presence' } });
  const draw = () => {
    const mine = office.presence.get(office.me.id);
    const state = mine ? presenceState(mine) : 'offline';
    button.replaceChildren(dot(mine, false), h('span', { class: 'presence-button-label' }, STATUS_LABELS[state]),
      h('span', { class: 'sr-only' }, ' — set your presence'));
  };
  draw();
  const stop = office.onChange((topic) => {
    if (!document.contains(button)) stop();
    else if (topic === 'presence') draw();
  });
  button.addEventListener('click', () => openPresenceDialog(office));
  return button;
}

/**
 * The dialog to set status, location, out of office with a deputy, and a note.
 * @param {Office} office
 */
export function openPresenceDialog(office) {
  const mine = office.presence.get(office.me.id);
  const status = mine && mine.status !== 'offline' ? mine.status : 'online';
  const colleagues = [...office.presence.values()].filter((p) => p.user_id !== office.me.id).sort((a, b) => a.name.localeCompare(b.name));
  /**
   * @param {string} id @param {string} label @param {HTMLElement} control
   * @returns {HTMLElement}
   */
  const row = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id }, label), control);
  const statusSelect = h('select', { id: 'presence-status', name: 'status' },
    ['online', 'away', 'busy', 'dnd'].map((v) => h('option', { value: v, selected: v === status }, STATUS_LABELS[v])));
  const locationSelect = h('select', { id: 'presence-location', name: 'location' },
    h('option', { value: '' }, 'Not set'),
    Object.entries(LOCATIONS).map(([v, l]) => h('option', { value: v, selected: mine && mine.location === v }, l.label)));
  const ooo = h('input', { type: 'checkbox', id: 'presence-ooo', name: 'out_of_office', checked: Boolean(mine && mine.out_of_office) });
  const deputy = h('select', { id: 'presence-deputy', name: 'deputy_id' },
    h('option', { value: '' }, 'Nobody'),
    colleagues.map((p) => h('option', { value: p.user_id, selected: mine && mine.deputy_id === p.user_id }, p.name)));
  const note = h('input', { id: 'presence-note', name: 'note', value: (mine && mine.note) || '', maxlength: '280', autocomplete: 'off', placeholder: 'Back at 3 pm, focus time…' });
  const syncDeputy = () => { deputy.disabled = !ooo.checked; };
  ooo.addEventListener('change', syncDeputy);
  syncDeputy();
  const save = h('button', { type: 'submit', class: 'button primary', form: 'presence-form' }, 'Save');
  const form = h('form', { id: 'presence-form', novalidate: true },
    row('presence-status', 'Status', statusSelect),
    row('presence-location', 'Where I work today', locationSelect),
    h('label', { class: 'check', for: 'presence-ooo' }, ooo, h('span', {}, 'Out of office', h('small', {}, 'Colleagues see your deputy instead.'))),
    row('presence-deputy', 'Deputy', deputy),
    row('presence-note', 'Note', note));
  const { close } = openDialog({
    title: 'My presence', className: 'presence-dialog', body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), save],
  });
  statusSelect.focus();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const sent = office.signal.setPresence({
      status: /** @type {Availability} */ (statusSelect.value),
      location: locationSelect.value ? /** @type {import('/client/messages.js').Location} */ (locationSelect.value) : null,
      out_of_office: ooo.checked,
      deputy_id: ooo.checked && deputy.value ? deputy.value : null,
      note: note.value.trim(),
    });
    close();
    toast(sent ? 'Your presence has been updated.' : 'Saved; it will be sent when the connection is back.', sent ? 'success' : 'info');
  });
}
