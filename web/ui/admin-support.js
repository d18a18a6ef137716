// The administrators' "Support requests" section of the admin page: the open requests of the
// organisation, to answer (emailed to the author) or resolve. All requests, resolved ones too,
// are on the "Help & support" page.

import * as api from '/client/api.js';
import * as joining from '/client/joining-api.js';
import { h } from '/ui/dom.js';
import { ticketList } from '/ui/support-tickets.js';

/**
 * The section, loading the tickets itself.
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function supportSection(ctx) {
  const [tickets, users] = await Promise.all([joining.tickets(), api.users('').catch(() => [])]);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const open = tickets.filter((t) => t.status === 'open');
  const resolved = tickets.length - open.length;
  const count = h('span', { class: 'badge' + (open.length ? ' open' : '') }, `${open.length} open`);
  const openIds = new Set(open.map((t) => t.id));
  return h('section', { class: 'card admin-support', 'aria-labelledby': 'admin-support-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'admin-support-title' }, 'Support requests ', count),
      h('a', { class: 'button small', href: '/support' }, 'All requests')),
    ticketList(open, {
      asAdmin: true,
      meId: ctx.me ? ctx.me.id : '',
      names,
      onChange: (fresh) => {
        if (fresh.status !== 'open') openIds.delete(fresh.id);
        count.textContent = `${openIds.size} open`;
        count.classList.toggle('open', openIds.size > 0);
      },
      emptyText: resolved ? `No open requests. ${resolved} resolved request${resolved === 1 ? '' : 's'} on the Help & support page.` : 'No support requests yet.',
    }));
}
