// The directory: search colleagues and see their cards. The search text goes to the API only;
// it never appears in the page's own address.

import * as api from '/client/api.js';
import { h, debounce } from '/ui/dom.js';
import { personCard } from '/ui/people.js';

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
    results.replaceChildren(h('ul', { class: 'grid', 'aria-label': 'Colleagues' },
      sorted.map((u) => h('li', {}, personCard(u, deputyName)))));
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
  return h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Directory'), h('p', {}, `Everyone at ${ctx.org ? ctx.org.name : 'your organisation'}.`)),
      searchBox),
    count,
    results);
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
