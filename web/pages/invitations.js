// "Invite colleagues" for users who hold the `invite` right without being administrators
// (administrators find the same section on the admin page).

import * as api from '/client/api.js';
import { h } from '/ui/dom.js';
import { invitationsSection } from '/ui/admin-invitations.js';

/**
 * Whether a user may invite people.
 * @param {api.User} user
 * @returns {boolean}
 */
export function canInvite(user) {
  return user.role === 'admin' || (user.rights || []).includes('invite');
}

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  const head = h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'Invite colleagues'), h('p', {}, 'Invite people to your organisation’s Bureau by email.')));
  if (!canInvite(me)) {
    return h('section', { class: 'page narrow' }, head,
      h('p', {}, 'Inviting people needs the “Invite people” right. Ask an administrator if you need it.'));
  }
  return h('section', { class: 'page' }, head, await invitationsSection({ canInviteAdmins: me.role === 'admin' }));
}
