// The reception desk for members: guests waiting in the lobby (`guest_waiting`, also the ones sent
// right after `welcome`) appear at once in a region at the top of every page with "Let in" and
// "Refuse"; an entry goes on `guest_left` (any member answered, or the guest went away).

import { h } from '/ui/dom.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {{user_id: string, room_id: string, name: string}} WaitingGuest
 */

/**
 * Mounts the lobby region for a member's running office.
 * @param {Office} office
 * @returns {() => void} Removes it.
 */
export function mountLobby(office) {
  document.getElementById('lobby')?.remove();
  const region = h('section', { id: 'lobby', class: 'lobby', 'aria-label': 'Guests waiting', hidden: true });
  const list = h('ul', { class: 'lobby-list' });
  region.append(list);
  const anchor = document.getElementById('stage') || document.getElementById('topbar');
  if (anchor) anchor.after(region);
  /** @type {Map<string, WaitingGuest>} */
  const waiting = new Map();

  const roomName = (/** @type {string} */ id) => {
    const room = office.rooms.find((r) => r.id === id);
    return room ? room.name : 'a room';
  };

  const draw = () => {
    const focusedKey = document.activeElement instanceof HTMLElement && region.contains(document.activeElement)
      ? document.activeElement.dataset.focusKey : undefined;
    region.hidden = waiting.size === 0;
    list.replaceChildren(...[...waiting.values()].map((g) => h('li', { class: 'lobby-guest', dataset: { userId: g.user_id } },
      h('p', { class: 'lobby-text' }, h('strong', {}, g.name), ' (guest) is waiting to join ', h('strong', {}, roomName(g.room_id)), '.'),
      h('div', { class: 'lobby-actions' },
        h('button', {
          type: 'button', class: 'button small primary', dataset: { focusKey: 'admit-' + g.user_id },
          'aria-label': `Let ${g.name} in`, onclick: () => answer(g.user_id, true),
        }, 'Let in'),
        h('button', {
          type: 'button', class: 'button small danger', dataset: { focusKey: 'refuse-' + g.user_id },
          'aria-label': `Refuse ${g.name}`, onclick: () => answer(g.user_id, false),
        }, 'Refuse')))));
    if (focusedKey) {
      const again = /** @type {HTMLElement|null} */ (region.querySelector(`[data-focus-key="${CSS.escape(focusedKey)}"]`));
      if (again) again.focus();
    }
  };

  /**
   * @param {string} userId
   * @param {boolean} admit
   */
  const answer = (userId, admit) => {
    if (admit) office.signal.admitGuest(userId);
    else office.signal.refuseGuest(userId);
    waiting.delete(userId);
    draw();
  };

  const stops = [
    office.signal.on('welcome', () => { waiting.clear(); draw(); }),
    office.signal.on('guest_waiting', (msg) => {
      const fresh = !waiting.has(msg.user_id);
      waiting.set(msg.user_id, { user_id: msg.user_id, room_id: msg.room_id, name: msg.name });
      draw();
      if (fresh) announce(`${msg.name} is waiting to join ${roomName(msg.room_id)}.`);
    }),
    office.signal.on('guest_left', (msg) => {
      if (waiting.delete(msg.user_id)) draw();
    }),
    office.onChange((topic) => { if (topic === 'rooms' && waiting.size) draw(); }),
  ];
  return () => {
    for (const stop of stops) stop();
    region.remove();
  };
}

/**
 * Says something through the toast region (aria-live), without a visible toast.
 * @param {string} text
 */
function announce(text) {
  const live = document.getElementById('toasts');
  if (!live) return;
  const item = h('div', { class: 'sr-only' }, text);
  live.append(item);
  setTimeout(() => item.remove(), 5000);
}
