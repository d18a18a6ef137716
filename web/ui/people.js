// How a colleague is shown: the directory card and the detail dialog.

import { h, openDialog } from '/ui/dom.js';
import { roleLabel } from '/client/fields.js';
import { avatarFor } from '/ui/avatar.js';
import { nextBusyText } from '/ui/presence.js';

/**
 * Resolves a deputy id to a display name (or null when unknown).
 * @callback DeputyName
 * @param {string} id
 * @returns {string|null}
 */

/**
 * The user's picture, or their initials.
 * @param {import('/client/api.js').User} user
 * @param {string} [size] `sm` or `lg`
 * @returns {HTMLElement}
 */
export function avatar(user, size) {
  return avatarFor(user.id, user.name, size, Boolean(user.has_picture));
}

/**
 * The name with the title in front, e.g. "Dr. Ada Lovelace".
 * @param {import('/client/api.js').User} user
 * @returns {string}
 */
export function fullName(user) {
  return user.title ? `${user.title} ${user.name}` : user.name;
}

/**
 * Role and status badges.
 * @param {import('/client/api.js').User} user
 * @returns {HTMLElement[]}
 */
export function badges(user) {
  const list = [h('span', { class: 'badge ' + user.role }, roleLabel(user.role))];
  if (!user.active) list.push(h('span', { class: 'badge inactive' }, 'Deactivated'));
  if (user.unavailable) list.push(h('span', { class: 'badge inactive', title: 'This record failed its integrity check. Restore it from a backup; the server log names it.' }, 'Damaged record'));
  return list;
}

/**
 * @param {string} number
 * @returns {HTMLAnchorElement}
 */
function tel(number) {
  return h('a', { href: 'tel:' + number.replace(/[^+0-9]/g, '') }, number);
}

/**
 * A definition list of the facts that are present.
 * @param {[string, string|Node|null|undefined][]} rows
 * @returns {HTMLDListElement}
 */
function facts(rows) {
  return h('dl', { class: 'facts' },
    rows.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

/**
 * @param {import('/client/api.js').User} user
 * @returns {HTMLAnchorElement}
 */
function mailto(user) {
  return h('a', { href: 'mailto:' + user.email, title: user.email }, user.email);
}

/**
 * A directory card; its name button opens the detail dialog.
 * @param {import('/client/api.js').User} user
 * @param {DeputyName} deputyName
 * @returns {HTMLElement}
 */
export function personCard(user, deputyName) {
  const open = h('button', { type: 'button', class: 'person-open', 'aria-haspopup': 'dialog', onclick: () => showPerson(user, deputyName) }, fullName(user));
  return h('article', { class: 'person' + (user.active ? '' : ' inactive'), dataset: { userId: user.id }, 'aria-label': user.name },
    h('div', { class: 'person-top' },
      avatar(user),
      h('div', { class: 'person-id' },
        open,
        user.company_role ? h('div', { class: 'person-sub' }, user.company_role) : null,
        h('div', { class: 'person-badges' }, badges(user)))),
    facts([
      ['Email', mailto(user)],
      ['Location', user.work_location],
      ['Extension', user.phone_extension ? tel(user.phone_extension) : null],
      ['Mobile', user.phone_mobile ? tel(user.phone_mobile) : null],
      ['Deputy', user.deputy_id ? deputyName(user.deputy_id) || 'A colleague' : null],
      ['Calendar', user.next_busy ? nextBusyText(user.next_busy) : null],
    ]));
}

/**
 * @param {number|undefined} hours
 * @returns {string|null}
 */
function hours(hours) {
  return typeof hours === 'number' ? `${hours} h per week` : null;
}

/**
 * Opens the detail dialog of a colleague.
 * @param {import('/client/api.js').User} user
 * @param {DeputyName} deputyName
 */
export function showPerson(user, deputyName) {
  openDialog({
    title: 'Colleague',
    className: 'person-dialog',
    body: [
      h('div', { class: 'detail-head' },
        avatar(user, 'lg'),
        h('div', {},
          h('h3', {}, fullName(user)),
          user.company_role ? h('div', { class: 'person-sub' }, user.company_role) : null,
          h('div', { class: 'person-badges' }, badges(user)))),
      facts([
        ['Email', mailto(user)],
        ['Username', user.username],
        ['Work location', user.work_location],
        ['Qualification', user.qualification],
        ['Extension', user.phone_extension ? tel(user.phone_extension) : null],
        ['Mobile', user.phone_mobile ? tel(user.phone_mobile) : null],
        ['Device', user.device],
        ['Deputy', user.deputy_id ? deputyName(user.deputy_id) || 'A colleague' : null],
        ['Personnel ID', user.personnel_id],
        ['Office', hours(user.office_hours_weekly)],
        ['Home office', hours(user.home_office_hours_weekly)],
      ]),
    ],
  });
}
