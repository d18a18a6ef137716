// Administration: organisation settings and the users table. The user dialogs are in
// /user-dialogs.js.

import * as api from '/client/api.js';
import { h, field, clearErrors, toast, openDialog } from '/ui/dom.js';
import { saveOrgSettings } from '/ui/org-settings.js';
import { roleLabel } from '/client/fields.js';
import { radioGroup } from '/ui/editor.js';
import { avatar } from '/ui/people.js';
import { openAddUser, openEditUser } from '/ui/user-dialogs.js';
import { roomsCard } from '/pages/admin-rooms.js';
import { mailSettingsCard } from '/ui/admin-mail.js';
import { messagesSettingsCard } from '/ui/admin-messages.js';
import { invitationsSection } from '/ui/admin-invitations.js';
import { supportSection } from '/ui/admin-support.js';
import { privacySummaryCard } from '/pages/privacy-admin.js';

const MODES = [
  {
    value: 'entry', label: 'Entry profile',
    hint: 'Stores and shows only name, email address and role. The most data-minimal choice, and the default.',
  },
  {
    value: 'extended', label: 'Extended profile',
    hint: 'Also stores title, username, deputy, personnel ID, company role, work location, qualification, phone numbers, device and weekly office/home-office hours — only when filled in.',
  },
];

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const org = ctx.org || await api.org();
  const users = await api.users('');
  const [rooms, invitations, support, privacy, guests] = await Promise.all([roomsCard(ctx, org), invitationsSection(), supportSection(ctx), privacySummaryCard(), guestsCard()]);
  const tableHost = h('div', { class: 'table-wrap' });

  const reload = async () => {
    try {
      const fresh = await api.users('');
      drawTable(tableHost, fresh, ctx, reload);
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  };
  drawTable(tableHost, users, ctx, reload);

  const addButton = h('button', {
    type: 'button', class: 'button primary', 'aria-haspopup': 'dialog',
    onclick: () => openAddUser(() => void reload()),
  }, '+ Add user');

  return h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Administration'), h('p', {}, 'Organisation settings, user accounts and rooms.'))),
    orgCard(ctx, org),
    mailSettingsCard(ctx, org),
    messagesSettingsCard(ctx, org),
    h('section', { class: 'card', 'aria-labelledby': 'users-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'users-title' }, 'Users'), addButton),
      tableHost),
    guests,
    rooms,
    invitations,
    support,
    privacy);
}

/**
 * The organisation's guests, apart from its users: who visited through a guest link, and when.
 * @returns {Promise<HTMLElement>}
 */
async function guestsCard() {
  const host = h('div', {});
  const draw = async () => {
    /** @type {api.User[]} */
    let list = [];
    try {
      list = await api.guests();
    } catch (err) {
      host.replaceChildren(h('p', { class: 'error' }, api.describeError(err)));
      return;
    }
    if (list.length === 0) {
      host.replaceChildren(h('p', { class: 'muted' }, 'No guests yet. Guests come in through the guest links of meeting rooms and the reception.'));
      return;
    }
    const date = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    host.replaceChildren(h('table', { class: 'responsive guests-table' },
      h('caption', { class: 'sr-only' }, 'Guests of the organisation'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Came in'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, [...list].sort((a, b) => b.created_at - a.created_at).map((g) => h('tr', { dataset: { userId: g.id } },
        h('td', {}, g.name),
        h('td', {}, date.format(g.created_at)),
        h('td', {}, g.active ? h('span', { class: 'badge active' }, 'Active') : h('span', { class: 'badge inactive' }, 'Ended')),
        h('td', { class: 'actions' }, h('button', {
          type: 'button', class: 'button small danger', 'aria-label': `Erase the guest ${g.name}`,
          onclick: () => {
            const erase = h('button', { type: 'button', class: 'button danger' }, 'Erase');
            const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
            const { close } = openDialog({
              title: `Erase the guest ${g.name}?`,
              body: h('p', {}, 'Their account and data go; call logs keep an anonymous entry.'),
              footer: [cancel, erase],
            });
            cancel.addEventListener('click', close);
            erase.addEventListener('click', async () => {
              try {
                await api.eraseUser(g.id);
                close();
                toast(`${g.name} was erased.`);
                await draw();
              } catch (err) {
                toast(api.describeError(err), 'error');
              }
            });
          },
        }, 'Erase')))))));
  };
  await draw();
  return h('section', { class: 'card', 'aria-labelledby': 'guests-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'guests-title' }, 'Guests')),
    h('p', { class: 'muted' }, 'Guests are not in the directory or the users above: they belong to the room they visited.'),
    host);
}

/**
 * @param {import('/app.js').Context} ctx
 * @param {api.Org} org
 * @returns {HTMLElement}
 */
function orgCard(ctx, org) {
  let current = org;
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save settings');
  const form = h('form', { class: 'org-form', novalidate: true, 'aria-label': 'Organisation settings' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'name', label: 'Organisation name', value: org.name, required: true, attrs: { maxlength: '100' } }),
    radioGroup('profile_mode', 'Profile mode', MODES, org.profile_mode),
    h('div', { class: 'field switch-field' },
      h('label', {},
        h('input', { type: 'checkbox', name: 'require_two_factor', role: 'switch', checked: Boolean(org.require_two_factor) }),
        ' Require two-factor sign-in'),
      h('p', { class: 'hint' }, 'Everyone without an authenticator or SMS codes is asked to set up an authenticator app at their next sign-in.')),
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const name = String(data.get('name') || '').trim();
    const mode = /** @type {api.ProfileMode} */ (String(data.get('profile_mode') || current.profile_mode));
    const required = data.get('require_two_factor') === 'on';
    /** @type {{name?: string, profile_mode?: api.ProfileMode, require_two_factor?: boolean}} */
    const patch = {};
    if (name !== current.name) patch.name = name;
    if (mode !== current.profile_mode) patch.profile_mode = mode;
    if (required !== Boolean(current.require_two_factor)) patch.require_two_factor = required;
    const saved = await saveOrgSettings(form, save, patch, 'Organisation settings saved.');
    if (saved) {
      current = saved;
      await ctx.refresh();
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'org-title' },
    h('h2', { id: 'org-title' }, 'Organisation'), form);
}

/**
 * @param {HTMLElement} host
 * @param {api.User[]} users
 * @param {import('/app.js').Context} ctx
 * @param {() => Promise<void>} reload
 */
function drawTable(host, users, ctx, reload) {
  const sorted = [...users].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));
  host.replaceChildren(h('table', { class: 'responsive users-table' },
    h('caption', { class: 'sr-only' }, 'Users of the organisation'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, sorted.map((u) => h('tr', { class: u.active ? '' : 'inactive', dataset: { userId: u.id } },
      h('td', {}, h('span', { class: 'cell-user' }, avatar(u, 'sm'), u.name,
        ctx.me && ctx.me.id === u.id ? h('span', { class: 'muted' }, '(you)') : null)),
      h('td', { class: 'col-email' }, u.email),
      h('td', {}, h('span', { class: 'badge ' + u.role }, roleLabel(u.role))),
      h('td', {}, u.active ? h('span', { class: 'badge active' }, 'Active') : h('span', { class: 'badge inactive' }, 'Deactivated')),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'button small', 'aria-haspopup': 'dialog', 'aria-label': `Edit ${u.name}`,
        onclick: () => openEditUser(u, users, ctx, async (changed) => {
          if (ctx.me && changed.id === ctx.me.id) await ctx.refresh();
          await reload();
        }),
      }, 'Edit')))))));
}
