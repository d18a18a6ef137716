// Team channels: group conversations, end-to-end encrypted for their members' devices with a new
// key whenever the members change (client/groups.js). The office page lists them; a dialog makes
// one, another shows, adds and removes members (and lets the user leave).

import * as api from '/client/api.js';
import { h, field, openDialog, busy, clearErrors, setFieldError, showError, toast } from '/ui/dom.js';
import { checkboxGroup, checkedValues } from '/ui/editor.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 */

/**
 * Colleagues to choose from (the directory, without the user).
 * @param {Office} office
 * @param {string[]} [leaving] Ids to leave out.
 * @returns {{value: string, label: string}[]}
 */
function colleagues(office, leaving = []) {
  // The directory as read at sign-in, and whoever the live office has seen since.
  const names = new Map(office.names);
  for (const p of office.presence.values()) names.set(p.user_id, p.name);
  return [...names].filter(([id]) => id !== office.me.id && !leaving.includes(id))
    .map(([id, name]) => ({ value: id, label: name })).sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * The "Team channels" card of the office page; it follows the list as it changes.
 * @param {Office} office
 * @param {(conversationId: string) => void} openChannel
 * @param {(userId: string) => void} openDirect Opens the conversation with a colleague.
 * @returns {HTMLElement}
 */
export function channelsCard(office, openChannel, openDirect) {
  const list = h('ul', { class: 'channel-list', 'aria-label': 'Team channels' });
  const direct = h('ul', { class: 'channel-list', 'aria-label': 'Unread direct messages', hidden: true });
  const draw = () => {
    const groups = [...office.mailbox.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...(groups.length ? groups.map((g) => h('li', {},
      h('button', { type: 'button', class: 'button small', onclick: () => openChannel(g.id) }, g.name, unreadBadge(office, 'group:' + g.id)),
      h('span', { class: 'muted' }, ` ${g.room_id ? 'room chat · ' : ''}${g.members.length} member${g.members.length === 1 ? '' : 's'}`)))
      : [h('li', { class: 'muted' }, 'No channels yet.')]));
    const unreadDirect = [...office.mailbox.unread.keys()].filter((key) => !key.startsWith('group:'));
    direct.hidden = unreadDirect.length === 0;
    direct.replaceChildren(...unreadDirect.map((userId) => h('li', {},
      h('button', { type: 'button', class: 'button small', onclick: () => openDirect(userId) }, office.nameOf(userId) || 'A colleague', unreadBadge(office, userId)))));
  };
  const stops = [office.mailbox.onGroups(redraw), office.mailbox.onUnread(redraw)];
  function redraw() {
    if (!list.isConnected) return void stops.forEach((stop) => stop());
    draw();
  }
  draw();
  return h('section', { class: 'card', 'aria-labelledby': 'channels-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'channels-title' }, 'Team channels'),
      h('button', { type: 'button', class: 'button small', 'aria-haspopup': 'dialog', onclick: () => openNewChannel(office, openChannel) }, 'New channel')),
    direct, list);
}

/**
 * How many lines of a conversation the user has not read ("3"; with an at sign when some mention them),
 * or nothing.
 * @param {Office} office
 * @param {string} key
 * @returns {HTMLElement|null}
 */
function unreadBadge(office, key) {
  const unread = office.mailbox.unread.get(key);
  if (!unread || !unread.count) return null;
  const words = `${unread.count} unread${unread.mentions ? `, ${unread.mentions} mentioning you` : ''}`;
  return h('span', { class: 'unread-badge', title: words }, h('span', { 'aria-hidden': 'true' }, `${unread.count}${unread.mentions ? ' @' : ''}`), h('span', { class: 'sr-only' }, ` (${words})`));
}

/**
 * Asks for a name and members, and makes the channel.
 * @param {Office} office
 * @param {(conversationId: string) => void} openChannel
 */
export function openNewChannel(office, openChannel) {
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Create channel');
  const form = h('form', { novalidate: true, 'aria-label': 'New channel' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'name', label: 'Name', required: true, attrs: { maxlength: '100' } }),
    checkboxGroup('members', 'Members', colleagues(office), []),
    h('div', { class: 'form-actions' }, save));
  const { close } = openDialog({ title: 'New channel', body: form });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const name = String(new FormData(form).get('name') || '').trim();
    if (!name) return void setFieldError(form, 'name', 'Give the channel a name.');
    await busy(save, async () => {
      try {
        const made = await api.createConversation({ name, members: checkedValues(form, 'members') });
        await office.mailbox.refreshGroups();
        close();
        toast(`Channel “${made.name}” created.`, 'success');
        openChannel(made.id);
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
}

/**
 * The members of a channel: remove one (its maker and administrators), leave, or add a colleague.
 * @param {Office} office
 * @param {api.Conversation} group
 */
export function openMembers(office, group) {
  const me = office.me.id;
  const mayRemove = group.created_by === me || office.me.role === 'admin';
  const change = async (/** @type {() => Promise<api.Conversation>} */ call, /** @type {string} */ done) => {
    try {
      await call();
      await office.mailbox.refreshGroups();
      close();
      toast(done, 'success');
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  };
  const others = colleagues(office, group.members);
  const add = h('select', { id: 'channel-add', 'aria-label': 'Colleague to add' },
    others.map((c) => h('option', { value: c.value, text: c.label })));
  const { close } = openDialog({
    title: `Members of ${group.name}`,
    body: [
      h('ul', { class: 'channel-members', 'aria-label': 'Members' }, group.members.map((id) => {
        const name = id === me ? 'You' : office.nameOf(id) || 'A colleague';
        const button = id === me
          ? h('button', { type: 'button', class: 'button small', onclick: () => change(() => api.removeConversationMember(group.id, me), `You left ${group.name}.`) }, 'Leave')
          : mayRemove ? h('button', { type: 'button', class: 'button small', 'aria-label': `Remove ${name}`, onclick: () => change(() => api.removeConversationMember(group.id, id), `${name} was removed. New messages use a new key.`) }, 'Remove') : null;
        return h('li', {}, h('span', {}, name), button);
      })),
      others.length ? h('div', { class: 'channel-add' }, add,
        h('button', { type: 'button', class: 'button small', onclick: () => change(() => api.addConversationMember(group.id, add.value), `${office.nameOf(add.value) || 'The colleague'} was added.`) }, 'Add')) : null,
      h('p', { class: 'hint' }, 'Whenever the members change, new messages are encrypted with new keys for the members of then: someone removed cannot read what follows, and someone added does not see what came before.'),
    ],
  });
}
