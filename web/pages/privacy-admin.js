// `/privacy-admin`: the privacy team's page (administrators and the `manage_privacy` right) —
// the privacy request queue, the audit log, and for administrators the legal texts.

import * as api from '/client/api.js';
import * as privacy from '/client/privacy-api.js';
import { h } from '/ui/dom.js';
import { requestQueue, auditLog } from '/ui/admin-privacy.js';
import { legalTextsSection } from '/ui/legal-editor.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  if (!privacy.isPrivacyTeam(me)) {
    return h('section', { class: 'page narrow' },
      h('h1', {}, 'Privacy team only'),
      h('p', {}, 'This page is for administrators and people with the right to manage privacy requests.'),
      h('p', {}, h('a', { href: '/privacy-centre' }, 'Go to your privacy centre')));
  }
  const admin = me.role === 'admin';
  const [requests, entries, users, legal] = await Promise.all([
    privacy.requests(),
    privacy.audit(),
    // Guests ask for their data too: their names come from the administrators' list of guests.
    Promise.all([api.users(''), admin ? api.guests() : Promise.resolve([])]).then(([a, b]) => [...a, ...b]).catch(() => /** @type {api.User[]} */ ([])),
    admin ? privacy.legal(ctx.org ? ctx.org.slug : undefined) : Promise.resolve(null),
  ]);
  const names = new Map(users.map((u) => [u.id, u.name]));
  names.set(me.id, `${me.name} (you)`);
  return h('section', { class: 'page privacy-admin' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', {}, 'Privacy requests'),
        h('p', {}, admin ? 'Requests of the people in your organisation, the audit log and your legal texts.' : 'Requests of the people in your organisation and the audit log.'))),
    requestQueue(requests, names),
    auditLog(entries, names),
    admin ? legalTextsSection(legal, ctx.org ? ctx.org.name : '') : null);
}

/**
 * A small card for the admin page: open and overdue requests, with a link to this page.
 * @returns {Promise<HTMLElement>}
 */
export async function privacySummaryCard() {
  /** @type {privacy.PrivacyRequest[]|null} */
  const requests = await privacy.requests().catch(() => null);
  const open = requests ? requests.filter((r) => r.status === 'open') : [];
  const overdue = open.filter((r) => r.overdue).length;
  return h('section', { class: 'card admin-privacy', 'aria-labelledby': 'admin-privacy-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'admin-privacy-title' }, 'Privacy ',
        h('span', { class: 'badge' + (overdue ? ' status-overdue' : open.length ? ' open' : '') },
          requests ? `${open.length} open` + (overdue ? `, ${overdue} overdue` : '') : 'unavailable')),
      h('a', { class: 'button small', href: '/privacy-admin' }, 'Open privacy tools')),
    h('p', { class: 'hint' }, 'Privacy requests (to be answered within one month), the audit log and the legal texts.'));
}
