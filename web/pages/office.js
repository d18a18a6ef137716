// The office: a floor plan of the organisation's rooms with live presence — meeting rooms and
// the reception first, then everyone's own office — and the user's recent calls.

import * as api from '/client/api.js';
import { h, openDialog, toast } from '/ui/dom.js';
import { runningOffice } from '/live/live-office.js';
import { presenceAvatar, presenceLine, inMeeting } from '/ui/presence.js';
import { openChat, openGroupChat, notSent } from '/ui/chat.js';
import { channelsCard } from '/ui/channels.js';
import { icon } from '/ui/icons.js';
import { openAddRoom } from '/pages/admin-rooms.js';
import { openGuestLinks } from '/ui/guest-links.js';
import { formatLastDay } from '/client/days.js';
import { mayOfferNotifications, askForNotifications, declineNotifications } from '/ui/alerts.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {import('/client/messages.js').RoomState} RoomState
 * @typedef {import('/client/messages.js').PeerInfo} PeerInfo
 * @typedef {import('/client/messages.js').Away} Away
 * @typedef {import('/client/messages.js').Meeting} Meeting
 */

const KIND_ORDER = { meeting: 0, reception: 1, office: 2, call: 3 };
const KIND_LABELS = { meeting: 'Meeting room', reception: 'Reception', office: 'Office', call: 'Call' };

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const office = runningOffice();
  if (!office || !ctx.me) throw new Error('The office is not running.');
  const summary = h('p', { id: 'office-summary', 'aria-live': 'polite' });
  const shared = h('ul', { class: 'floor', 'aria-label': 'Meeting rooms and reception' });
  const offices = h('ul', { class: 'floor floor-offices', 'aria-label': 'Offices' });
  const calls = h('div', { id: 'my-calls' });
  const notes = h('div', { class: 'office-notes' });
  const restricted = h('div', { class: 'card restricted-state', role: 'status', hidden: true },
    h('h2', {}, 'Your data processing is restricted'),
    h('p', {}, 'While it is restricted, colleagues do not see you and you cannot join rooms, call, message or send files.'),
    h('p', {}, h('a', { class: 'button primary', href: '/privacy-centre' }, 'Lift it in the privacy centre')));
  const section = h('section', { class: 'page office-page' },
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Office'), summary),
      ctx.me.role === 'admin' || ctx.me.rights.includes('create_rooms')
        ? h('button', { type: 'button', class: 'button', 'aria-haspopup': 'dialog', onclick: () => openAddRoom(() => {}) }, '+ Add room') : null),
    restricted,
    notes,
    h('section', { 'aria-labelledby': 'rooms-title', class: 'floor-section' }, h('h2', { id: 'rooms-title' }, 'Rooms'), shared),
    h('section', { 'aria-labelledby': 'offices-title', class: 'floor-section' }, h('h2', { id: 'offices-title' }, 'Offices'), offices),
    ctx.me.role === 'guest' ? null : channelsCard(office, (id) => openGroupChat(office, id), (id) => openChat(office, id)),
    h('section', { class: 'card', 'aria-labelledby': 'calls-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'calls-title' }, 'My calls'),
        h('button', { type: 'button', class: 'button small', onclick: () => void drawCalls(office, calls) }, 'Refresh')),
      calls));

  const draw = () => {
    const focusedKey = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.focusKey : undefined;
    const online = [...office.presence.values()].filter((p) => p.status !== 'offline').length;
    summary.textContent = office.restricted ? 'You are not in the live office.' : office.signal.status.state === 'open'
      ? `${online} of ${office.presence.size} ${office.presence.size === 1 ? 'person' : 'people'} online.`
      : 'Connecting to the office…';
    restricted.hidden = !office.restricted;
    const refusal = office.refusal
      ? h('p', { class: 'card refusal', role: 'status' }, office.refusal, ' ',
        h('button', { type: 'button', class: 'button small', onclick: () => office.dismissRefusal() }, 'Dismiss'))
      : null;
    notes.replaceChildren(...[refusal, knockNotes(office), notificationOffer(draw)].filter((n) => n !== null));
    section.querySelectorAll('.floor-section').forEach((el) => { /** @type {HTMLElement} */ (el).hidden = office.restricted; });
    const rooms = [...office.rooms].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name));
    shared.replaceChildren(...rooms.filter((r) => r.kind !== 'office').map((r) => h('li', {}, roomTile(office, r))));
    if (shared.childElementCount === 0) shared.append(h('li', { class: 'empty' }, 'No rooms yet. An administrator can add meeting rooms.'));
    offices.replaceChildren(...rooms.filter((r) => r.kind === 'office').map((r) => h('li', {}, roomTile(office, r))));
    if (focusedKey) {
      const again = /** @type {HTMLElement|null} */ (section.querySelector(`[data-focus-key="${CSS.escape(focusedKey)}"]`));
      if (again) again.focus();
    }
  };
  draw();
  let seen = false;
  const stop = office.onChange((topic) => {
    if (section.isConnected) seen = true;
    else if (seen) {
      stop();
      return;
    }
    if (topic === 'presence' || topic === 'rooms' || topic === 'room' || topic === 'status' || topic === 'knocks') draw();
    if (topic === 'room' && !office.roomId) void drawCalls(office, calls);
  });
  void drawCalls(office, calls);
  return section;
}

/**
 * One room of the floor plan.
 * @param {Office} office
 * @param {RoomState} room
 * @returns {HTMLElement}
 */
function roomTile(office, room) {
  const here = office.roomId === room.id;
  const owner = room.owner_user_id ? office.presence.get(room.owner_user_id) : undefined;
  const title = room.kind === 'office' && room.owner_user_id ? `${office.nameOf(room.owner_user_id) || room.name}` : room.name;
  const full = room.participants.length >= room.capacity;
  // A colleague's door: closed, or do-not-disturb, keeps others out (the server refuses too).
  const mine = room.kind === 'office' && room.owner_user_id === office.me.id;
  const shut = room.kind === 'office' && !mine && owner ? (owner.status === 'dnd' ? 'Do not disturb' : owner.door === 'closed' ? 'Door closed' : '') : '';
  const walk = h('button', {
    type: 'button', class: 'button small' + (here || shut ? '' : ' primary'), disabled: !here && (full || Boolean(shut)),
    dataset: { focusKey: 'walk-' + room.id, action: here ? 'leave' : 'enter' },
    // The visible words start the accessible name (WCAG 2.5.3): what one sees is what one says.
    'aria-label': here ? `Leave ${title}` : shut ? `${shut}: ${title}` : full ? `Full: ${title}` : `Walk in: ${title}`,
    onclick: () => (here ? office.leave() : office.enter(room.id)),
  }, here ? 'Leave' : full ? 'Full' : shut || 'Walk in');
  const door = mine ? doorButton(office) : null;
  const people = room.participants.map((p) => h('li', {}, occupant(office, p)));
  const away = room.kind === 'office' && room.owner_user_id ? room.away : undefined;
  const knock = room.kind === 'office' && room.owner_user_id && room.owner_user_id !== office.me.id
    ? knockButton(office, room.owner_user_id, title, away) : null;
  return h('article', {
    class: `room-tile room-${room.kind}` + (here ? ' here' : '') + (owner && owner.status === 'offline' ? ' away' : '') + (away ? ' absent' : ''),
    dataset: { roomId: room.id, kind: room.kind }, 'aria-label': room.kind === 'office' ? `Office of ${title}` : title,
  },
  h('div', { class: 'room-head' },
    h('div', { class: 'room-name' },
      h('span', { class: 'room-kind' }, KIND_LABELS[room.kind]),
      h('h3', {}, title)),
    h('span', { class: 'room-count', title: 'People in the room and its capacity' }, `${room.participants.length}/${room.capacity}`)),
  room.owner_user_id ? ownerLine(office, room.owner_user_id) : null,
  away ? h('p', { class: 'room-away' }, h('strong', {}, `Away until ${formatLastDay(away.until)}`), ' · ', standsIn(office, away)) : null,
  people.length ? h('ul', { class: 'occupants', 'aria-label': `In ${title}` }, people) : h('p', { class: 'room-empty' }, 'Nobody is here.'),
  h('div', { class: 'room-foot' },
    room.kind === 'meeting' || room.kind === 'reception'
      ? h('button', {
        type: 'button', class: 'button small', 'aria-haspopup': 'dialog', dataset: { focusKey: 'guests-' + room.id },
        'aria-label': `Guest link for ${title}`, onclick: () => openGuestLinks(room),
      }, 'Guest link')
      : null,
    knock,
    door,
    walk));
}

/**
 * The offer to turn on desktop notifications for knocks, until the user answers it.
 * @param {() => void} redraw
 * @returns {HTMLElement|null}
 */
function notificationOffer(redraw) {
  if (!mayOfferNotifications()) return null;
  return h('section', { class: 'card notification-offer', 'aria-labelledby': 'notify-title' },
    h('h2', { id: 'notify-title' }, 'Desktop notifications'),
    h('p', {}, 'Get a notification when someone knocks while Bureau is in the background. Your browser asks you first; nothing goes through a server.'),
    h('button', { type: 'button', class: 'button small primary', onclick: async () => {
      const answer = await askForNotifications();
      if (answer === 'denied') toast('Notifications are off. You can turn them on in your browser\'s site settings.');
      redraw();
    } }, 'Turn on'), ' ',
    h('button', { type: 'button', class: 'button small', onclick: () => { declineNotifications(); redraw(); } }, 'Not now'));
}

/**
 * Opens or closes the door of the user's own office.
 * @param {Office} office
 * @returns {HTMLElement}
 */
function doorButton(office) {
  const closed = office.myDoor() === 'closed';
  return h('button', {
    type: 'button', class: 'button small', 'aria-pressed': String(closed), dataset: { focusKey: 'door', action: 'door' },
    title: closed ? 'Colleagues knock to come in' : 'Colleagues may walk in',
    onclick: () => office.setDoor(closed ? 'open' : 'closed'),
  }, closed ? 'Open the door' : 'Close the door');
}

/**
 * Knocks the user missed (unanswered, or while they did not want to be disturbed), each with
 * Call back.
 * @param {Office} office
 * @returns {HTMLElement|null}
 */
function knockNotes(office) {
  if (office.knocks.length === 0) return null;
  const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  return h('section', { class: 'card knock-notes', 'aria-labelledby': 'knocks-title' },
    h('h2', { id: 'knocks-title' }, 'Missed knocks'),
    h('ul', {}, ...office.knocks.map((k) => h('li', {},
      h('span', {}, `${k.name} knocked at ${time.format(k.at)}`,
        k.why === 'dnd' ? ' while you did not want to be disturbed.' : '; nobody answered.'), ' ',
      h('button', { type: 'button', class: 'button small primary', onclick: () => { office.dismissKnock(k); office.ring(k.userId); } }, 'Call back'), ' ',
      h('button', { type: 'button', class: 'button small', 'aria-label': `Dismiss the knock of ${k.name}`, onclick: () => office.dismissKnock(k) }, 'Dismiss')))));
}

/**
 * The absence of a colleague, from their office on the floor plan.
 * @param {Office} office
 * @param {string} userId
 * @returns {Away|undefined}
 */
function awayOf(office, userId) {
  const room = office.rooms.find((r) => r.kind === 'office' && r.owner_user_id === userId);
  return room ? room.away : undefined;
}

/**
 * Who stands in for an absent colleague, as a sentence part ("Cleo Shaw stands in").
 * @param {Office} office
 * @param {Away} away
 * @returns {string}
 */
function standsIn(office, away) {
  if (!away.deputy_id) return 'Nobody stands in';
  if (away.deputy_id === office.me.id) return 'You stand in';
  return `${office.nameOf(away.deputy_id) || 'A colleague'} stands in`;
}

/**
 * Whom a knock on a colleague's door rings: them, or while they are away their deputy (nobody
 * without one, and nobody when the deputy is the one knocking), and whether that one is online.
 * @param {Office} office
 * @param {string} userId
 * @param {Away|undefined} away
 * @returns {{rings: string, reachable: boolean}} `rings`: the deputy's name when it is not the colleague.
 */
function knockTarget(office, userId, away) {
  const target = away ? away.deputy_id : userId;
  const p = target && target !== office.me.id ? office.presence.get(target) : undefined;
  return { rings: away && target ? office.nameOf(target) || 'their deputy' : '', reachable: Boolean(p && p.status !== 'offline') };
}

/**
 * The meeting a colleague is in that keeps knocks from ringing (they did not choose to be rung
 * in meetings): the server answers such a knock with busy. An absence goes first: then the
 * knock rings the deputy.
 * @param {Office} office
 * @param {string} userId
 * @param {Away|undefined} away
 * @returns {Meeting|undefined}
 */
function silentMeeting(office, userId, away) {
  const meeting = away ? undefined : office.presence.get(userId)?.meeting;
  return meeting && !meeting.rings ? meeting : undefined;
}

/**
 * Knocking on a colleague's office door calls them; while they are away the knock rings their
 * deputy, and the button says so; while they are in a meeting it does not ring, and the button
 * says that too (to screen readers and as its tooltip: the tile shows the meeting already).
 * @param {Office} office
 * @param {string} userId
 * @param {string} title
 * @param {Away|undefined} away
 * @returns {HTMLButtonElement}
 */
function knockButton(office, userId, title, away) {
  const { rings, reachable } = knockTarget(office, userId, away);
  const meeting = silentMeeting(office, userId, away);
  let suffix = '';
  if (away) suffix = away.deputy_id === office.me.id ? ' (you stand in)' : rings ? ` (rings ${rings})` : ' (nobody stands in)';
  return h('button', {
    type: 'button', class: 'button small', disabled: !reachable, dataset: { focusKey: 'knock-' + userId, action: 'knock' },
    title: meeting ? `${inMeeting(title, meeting)}: the knock will not ring.` : undefined,
    onclick: () => office.ring(userId),
  }, h('span', {}, 'Knock', h('span', { class: 'sr-only' }, ` on the door of ${title}`), suffix,
    meeting ? h('span', { class: 'sr-only' }, ' (in a meeting, will not ring)') : null)); // one flex item: the button’s gap would split the words
}

/**
 * The owner of an office, with presence, as a button that opens their card.
 * @param {Office} office
 * @param {string} userId
 * @returns {HTMLElement}
 */
function ownerLine(office, userId) {
  const p = office.presence.get(userId);
  const name = office.nameOf(userId);
  return h('button', {
    type: 'button', class: 'owner-line', 'aria-haspopup': 'dialog', dataset: { userId, focusKey: 'owner-' + userId },
    onclick: () => openPersonCard(office, userId),
  },
  presenceAvatar(userId, name, p, 'sm', false),
  h('span', { class: 'owner-text' }, h('span', { class: 'sr-only' }, name + ': '), presenceLine(p, (id) => office.nameOf(id))));
}

/**
 * Someone in a room: avatar with presence, name, muted and speaking marks.
 * @param {Office} office
 * @param {PeerInfo} peer
 * @returns {HTMLElement}
 */
function occupant(office, peer) {
  const p = office.presence.get(peer.user_id);
  const me = peer.user_id === office.me.id;
  return h('button', {
    type: 'button', class: 'occupant' + (peer.media_state.speaking ? ' speaking' : ''), 'aria-haspopup': me ? undefined : 'dialog',
    dataset: { userId: peer.user_id, focusKey: 'peer-' + peer.peer_id }, disabled: me || Boolean(peer.guest),
    onclick: () => openPersonCard(office, peer.user_id),
  },
  presenceAvatar(peer.user_id, peer.name, p, 'sm'),
  h('span', { class: 'occupant-name' }, me ? `${peer.name} (you)` : peer.name),
  peer.guest ? h('span', { class: 'guest-tag' }, 'Guest') : null,
  peer.media_state.muted ? h('span', { class: 'mark', title: 'Muted' }, icon('micOff'), h('span', { class: 'sr-only' }, 'muted')) : null,
  peer.media_state.screen ? h('span', { class: 'mark', title: 'Sharing the screen' }, icon('screen'), h('span', { class: 'sr-only' }, 'sharing the screen')) : null);
}

/**
 * A colleague's card: presence and the ways to reach them.
 * @param {Office} office
 * @param {string} userId
 */
export function openPersonCard(office, userId) {
  const p = office.presence.get(userId);
  const name = office.nameOf(userId) || 'Colleague';
  const offline = !p || p.status === 'offline';
  const mine = userId === office.me.id;
  const away = mine ? undefined : awayOf(office, userId);
  const knock = knockTarget(office, userId, away);
  const fileInput = h('input', { type: 'file', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
  const { close } = openDialog({
    title: name,
    className: 'person-dialog',
    body: [
      h('div', { class: 'detail-head' }, presenceAvatar(userId, name, p, 'lg', false),
        h('div', {}, h('h3', {}, name), presenceLine(p, (id) => office.nameOf(id)))),
      away ? h('p', { class: 'notice warning' }, `${name} is away until ${formatLastDay(away.until)}. ${standsIn(office, away)}${knock.rings ? ` — calls ring ${knock.rings}` : ''}.`) : null,
      offline && !mine ? h('p', { class: 'notice' }, `${name} is offline. A message or a file waits for ${name}, encrypted; calls need both of you online.`) : null,
      p && p.status === 'dnd' && !mine ? h('p', { class: 'notice warning' }, `${name} does not want to be disturbed.`) : null,
      p && p.meeting && !mine && !away ? h('p', { class: 'notice warning' }, p.meeting.rings
        ? `${inMeeting(name, p.meeting)}; calls still ring.`
        : `${inMeeting(name, p.meeting)}: calls do not ring until then.`) : null,
      fileInput,
    ],
    footer: mine ? [] : [
      h('button', { type: 'button', class: 'button primary', disabled: !knock.reachable, onclick: () => { close(); office.ring(userId); } },
        knock.rings ? `Call (rings ${knock.rings})` : 'Call'),
      h('button', { type: 'button', class: 'button', onclick: () => { close(); openChat(office, userId); } }, 'Message'),
      h('button', { type: 'button', class: 'button', onclick: () => fileInput.click() }, 'Send file'),
    ],
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    close();
    openChat(office, userId);
    office.mailbox.sendFile(userId, file).catch((err) => toast(notSent(err, name, 'file'), 'error'));
  });
}

/**
 * Draws the call history.
 * @param {Office} office
 * @param {HTMLElement} host
 * @returns {Promise<void>}
 */
async function drawCalls(office, host) {
  try {
    const calls = await api.myCalls();
    if (calls.length === 0) {
      host.replaceChildren(h('p', { class: 'muted' }, 'No calls yet.'));
      return;
    }
    host.replaceChildren(h('ul', { class: 'log', 'aria-label': 'My calls' }, calls.slice(0, 20).map((c) => {
      const room = c.room_id ? office.rooms.find((r) => r.id === c.room_id) : undefined;
      const others = c.participants.filter((id) => id !== office.me.id).map((id) => office.nameOf(id) || 'A colleague');
      const minutes = Math.max(1, Math.round(c.duration_ms / 60000));
      return h('li', {},
        h('span', {}, h('span', { class: 'when' }, new Date(c.started_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })),
          ' · ', room ? room.name : 'Call', others.length ? ` with ${others.join(', ')}` : ''),
        h('span', { class: 'log-right muted' }, c.duration_ms < 60000 ? `${Math.round(c.duration_ms / 1000)} s` : `${minutes} min`));
    })));
  } catch (err) {
    host.replaceChildren(h('p', { class: 'muted' }, err instanceof api.ApiError && err.status === 404 ? 'Call history is not available.' : api.describeError(err)));
  }
}
