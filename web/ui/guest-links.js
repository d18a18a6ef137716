// Guest links of a meeting room or the reception, for members: create one (expiry, "let guests
// in directly"), show it once with a copy button, list the room's links and revoke them.

import { h, uid, openDialog, toast } from '/ui/dom.js';
import * as guests from '/client/guest-api.js';

/**
 * @typedef {import('/client/messages.js').RoomState} RoomState
 */

const EXPIRY = [[1, '1 hour'], [8, '8 hours'], [24, '1 day'], [168, '1 week'], [720, '30 days']];

/**
 * Opens the guest link dialog of a room.
 * @param {RoomState} room
 */
export function openGuestLinks(room) {
  const id = uid('guest-link');
  const expiry = h('select', { id: id + '-expiry', name: 'expires_in_hours' },
    EXPIRY.map(([hours, label]) => h('option', { value: String(hours), selected: hours === 24 }, String(label))));
  const direct = h('input', { type: 'checkbox', id: id + '-direct', name: 'direct' });
  const most = h('input', { type: 'number', id: id + '-most', name: 'max_guests', min: '1', max: '500', value: '20', inputmode: 'numeric' });
  const result = h('div', { class: 'guest-link-result', 'aria-live': 'polite' });
  const list = h('div', { class: 'guest-link-list' });
  const create = h('button', { type: 'submit', class: 'button primary' }, 'Create link');
  const form = h('form', { class: 'guest-link-form', novalidate: true, 'aria-label': 'New guest link' },
    h('p', { class: 'muted' }, `Anyone with the link can ask to join ${room.name} with their name, until it expires or you revoke it.`),
    h('div', { class: 'field' }, h('label', { for: expiry.id }, 'Valid for'), expiry),
    h('div', { class: 'field' }, h('label', { for: most.id }, 'Guests it lets in (at most)'), most),
    h('div', { class: 'field' }, h('label', { class: 'check', for: direct.id }, direct,
      h('span', {}, 'Let guests in directly (no waiting in the lobby)'))),
    create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    create.disabled = true;
    try {
      const link = await guests.createLink(room.id, { expires_in_hours: Number(expiry.value), direct: direct.checked, max_guests: Number(most.value) });
      showLink(result, link);
      await drawLinks(room, list);
    } catch (err) {
      result.replaceChildren(h('p', { class: 'field-error', role: 'alert' }, guests.describe(err)));
    } finally {
      create.disabled = false;
    }
  });
  openDialog({
    title: `Guest link · ${room.name}`,
    className: 'guest-links-dialog',
    body: [form, result, h('h3', {}, 'Links of this room'), list],
  });
  void drawLinks(room, list);
}

/**
 * Shows a new link with a copy button (the token is shown only this once).
 * @param {HTMLElement} host
 * @param {guests.NewGuestLink} link
 */
function showLink(host, link) {
  const inputId = uid('guest-url');
  const url = h('input', { id: inputId, type: 'text', readonly: true, value: link.url, class: 'guest-url', spellcheck: 'false' });
  const copy = h('button', { type: 'button', class: 'button', onclick: async () => {
    try {
      await navigator.clipboard.writeText(link.url);
      toast('Link copied.', 'success');
    } catch {
      url.select();
      toast('Select and copy the link with Ctrl+C.', 'info');
    }
  } }, 'Copy link');
  host.replaceChildren(h('div', { class: 'notice' },
    h('div', { class: 'field' }, h('label', { for: inputId }, 'Guest link (shown only now)'), url),
    copy, ' ',
    h('span', { class: 'muted' }, `Valid until ${when(link.expires_at)} for up to ${link.max_guests} guests${link.direct ? ' · guests come in directly' : ' · guests wait in the lobby'}.`)));
  url.focus();
  url.select();
}

/**
 * @param {RoomState} room
 * @param {HTMLElement} host
 * @returns {Promise<void>}
 */
async function drawLinks(room, host) {
  try {
    const links = await guests.links(room.id);
    if (links.length === 0) {
      host.replaceChildren(h('p', { class: 'muted' }, 'No guest links yet.'));
      return;
    }
    const now = Date.now();
    host.replaceChildren(h('ul', { class: 'log', 'aria-label': 'Guest links' }, links.map((l) => {
      const state = l.revoked ? 'revoked' : l.expires_at <= now ? 'expired' : 'active';
      return h('li', { dataset: { linkId: l.id, state } },
        h('span', {}, `Created ${when(l.created_at)} · ${state === 'active' ? `valid until ${when(l.expires_at)}` : state}`,
          l.direct ? ' · direct' : ''),
        state === 'active'
          ? h('button', { type: 'button', class: 'button small danger', 'aria-label': `Revoke the link created ${when(l.created_at)}`, onclick: async () => {
            try {
              await guests.revokeLink(l.id);
              toast('Link revoked.', 'success');
            } catch (err) {
              toast(guests.describe(err), 'error');
            }
            await drawLinks(room, host);
          } }, 'Revoke')
          : h('span', { class: 'log-right muted' }, state));
    })));
  } catch (err) {
    host.replaceChildren(h('p', { class: 'muted' }, guests.describe(err)));
  }
}

/**
 * @param {number} ms Unix milliseconds.
 * @returns {string}
 */
function when(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
