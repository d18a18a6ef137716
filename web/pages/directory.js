// The directory: search colleagues and see their cards, each with their presence and Call and
// Message. The search text goes to the API only; it never appears in the page's own address.

import * as api from '/client/api.js';
import { h, debounce } from '/ui/dom.js';
import { personCard } from '/ui/people.js';
import { runningOffice } from '/live/live-office.js';
import { dot, presenceLine } from '/ui/presence.js';
import { openChat } from '/ui/chat.js';

const SEARCH_ICON = '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><circle cx="8.5" cy="8.5" r="5.5"/><path d="m13 13 4.5 4.5" stroke-linecap="round"/></svg>';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  /** @type {Map<string, string>} names of everyone seen so far, for deputies */
  const names = new Map();
  const initial = await api.users('');
  initial.forEach((u) => names.set(u.id, u.name));

  const input = h('input', {
    id: 'directory-search', type: 'search', name: 'q', autocomplete: 'off', placeholder: 'Name, email, role, location…',
    'aria-controls': 'directory-results', 'data-autofocus': true,
  });
  const searchBox = h('div', { class: 'search', role: 'search' },
    h('label', { for: 'directory-search', class: 'sr-only' }, 'Search the directory'), input);
  searchBox.insertAdjacentHTML('beforeend', SEARCH_ICON);
  const count = h('p', { class: 'result-count', 'aria-live': 'polite', id: 'directory-count' });
  const office = runningOffice();
  /** @type {Map<string, import('/client/api.js').User>} the users shown now */
  const shown = new Map();

  /**
   * A colleague's presence with Call and Message: none for oneself, a deactivated account, or
   * without the live office.
   * @param {HTMLElement} host
   * @param {import('/client/api.js').User} user
   */
  const drawReach = (host, user) => {
    if (!office || user.id === ctx.me?.id || !user.active) return void host.replaceChildren();
    const p = office.presence.get(user.id);
    const online = Boolean(p && p.status !== 'offline');
    host.replaceChildren(
      h('div', { class: 'person-presence' }, dot(p, false), presenceLine(p, (id) => office.nameOf(id))),
      h('div', { class: 'person-actions' },
        h('button', {
          type: 'button', class: 'button small primary', disabled: !online, 'aria-label': `Call ${user.name}`,
          title: online ? undefined : `${user.name} is offline`, dataset: { focusKey: 'call-' + user.id }, onclick: () => office.ring(user.id),
        }, 'Call'),
        h('button', {
          type: 'button', class: 'button small', 'aria-label': `Message ${user.name}`, dataset: { focusKey: 'message-' + user.id },
          onclick: () => openChat(office, user.id),
        }, 'Message')));
  };
  const results = h('div', { id: 'directory-results' });

  /**
   * @param {string} id
   * @returns {string|null}
   */
  const deputyName = (id) => names.get(id) || null;

  /**
   * @param {import('/client/api.js').User[]} list
   * @param {string} query
   */
  const show = (list, query) => {
    list.forEach((u) => names.set(u.id, u.name));
    const people = list.length === 1 ? 'person' : 'people';
    count.textContent = query ? `${list.length} ${people} found for “${query}”` : `${list.length} ${people}`;
    if (list.length === 0) {
      results.replaceChildren(h('div', { class: 'empty' },
        h('p', {}, query ? 'Nobody matches this search.' : 'The directory is empty.'),
        query ? h('p', { class: 'hint' }, 'Try a part of a name, an email address, a role or a location.') : null));
      return;
    }
    const sorted = [...list].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));
    shown.clear();
    results.replaceChildren(h('ul', { class: 'grid', 'aria-label': 'Colleagues' },
      sorted.map((u) => {
        shown.set(u.id, u);
        const card = personCard(u, deputyName);
        const reach = h('div', { class: 'person-reach', dataset: { reachOf: u.id } });
        drawReach(reach, u);
        card.append(reach);
        return h('li', {}, card);
      })));
    void loadMissingDeputies(sorted, names, () => show(list, query));
  };

  let seq = 0;
  const search = debounce(async () => {
    const mine = ++seq;
    const query = input.value.trim();
    try {
      const list = await api.users(query);
      if (mine === seq) show(list, query);
    } catch (err) {
      if (mine !== seq) return;
      if (err instanceof api.ApiError && err.status === 401) return ctx.navigate('/login', true);
      count.textContent = '';
      results.replaceChildren(h('div', { class: 'empty', role: 'alert' }, api.describeError(err)));
    }
  }, 250);
  input.addEventListener('input', search);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value) {
      input.value = '';
      search();
    }
  });

  show(initial, '');
  const section = h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Directory'), h('p', {}, `Everyone at ${ctx.org ? ctx.org.name : 'your organisation'}.`)),
      searchBox),
    count,
    results);
  // A presence change redraws only the presence and buttons of the cards, keeping the focus.
  let seen = false;
  const stop = office ? office.onChange((topic) => {
    if (section.isConnected) seen = true;
    else if (seen) return void stop();
    if (topic !== 'presence') return;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.focusKey : undefined;
    for (const el of results.querySelectorAll('[data-reach-of]')) {
      const host = /** @type {HTMLElement} */ (el);
      const user = shown.get(host.dataset.reachOf || '');
      if (user) drawReach(host, user);
    }
    if (focused) /** @type {HTMLElement|null} */ (results.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`))?.focus();
  }) : () => {};
  return section;
}

/**
 * Fetches the names of deputies not in the list yet, then redraws once.
 * @param {import('/client/api.js').User[]} list
 * @param {Map<string, string>} names
 * @param {() => void} redraw
 */
async function loadMissingDeputies(list, names, redraw) {
  const missing = [...new Set(list.map((u) => u.deputy_id).filter((id) => id && !names.has(id)))];
  if (missing.length === 0) return;
  let found = false;
  for (const id of /** @type {string[]} */ (missing)) {
    try {
      const u = await api.user(id);
      names.set(u.id, u.name);
      found = true;
    } catch {
      names.set(id, '');
    }
  }
  if (found) redraw();
}
