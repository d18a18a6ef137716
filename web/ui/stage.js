// What stays on screen on every page while the office runs: the stage of the current room or
// call (video grid, controls, devices), the outgoing call status, the incoming ring dialog and the
// reconnecting banner.

import { h, openDialog } from '/ui/dom.js';
import { presenceAvatar, inMeeting } from '/ui/presence.js';
import { icon } from '/ui/icons.js';
import { avatarFor } from '/ui/avatar.js';
import { withdraw, storedConsent } from '/ui/consent.js';
import { formatLastDay } from '/client/days.js';
import { openRoomChat } from '/ui/chat.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {import('/live/live-office.js').Call} Call
 */

const OUTGOING = {
  calling: 'Calling…', ringing: 'Ringing…', accepted: 'Connecting…', declined: 'declined the call.', busy: 'is busy.',
  no_answer: 'did not answer.', cancelled: 'Call cancelled.', ended: 'Call ended.', offline: 'is offline.', failed: 'The call could not be placed.',
  away: 'is away.', noted: 'does not want to be disturbed: nothing rang, they will see that you knocked.',
};

/**
 * Mounts the stage, ring dialog and banner for a running office.
 * @param {Office} office
 */
export function mountStage(office) {
  const header = /** @type {HTMLElement} */ (document.getElementById('topbar'));
  document.getElementById('stage')?.remove();
  document.getElementById('conn-banner')?.remove();
  const banner = h('div', { id: 'conn-banner', class: 'conn-banner', role: 'status', hidden: true });
  const stage = h('section', { id: 'stage', class: 'stage', 'aria-label': 'Call', hidden: true });
  header.after(banner, stage);
  /** @type {Map<string, HTMLElement>} */
  const tiles = new Map();
  /** @type {{close: () => void, callId: string}|null} */
  let ringing = null;
  // Through the media server each video comes in the layer that fills its tile: the sizes go
  // to the media server when tiles change size (a window resized, people coming and going).
  let sizesDue = false;
  const reportSizes = () => {
    if (sizesDue) return;
    sizesDue = true;
    requestAnimationFrame(() => {
      sizesDue = false;
      /** @type {Map<string, number>} */
      const heights = new Map();
      for (const [id, tile] of tiles) {
        if (id !== 'self') heights.set(id, tile.getBoundingClientRect().height * window.devicePixelRatio);
      }
      office.mesh.showVideos(heights);
    });
  };
  const resized = new ResizeObserver(reportSizes);

  const drawBanner = () => {
    const s = office.signal.status;
    if (office.restricted) {
      banner.hidden = false;
      banner.className = 'conn-banner restricted';
      banner.replaceChildren('Your data processing is restricted, so you are not in the live office. ',
        h('a', { href: '/privacy-centre' }, 'Lift it in the privacy centre'), '.');
    } else if (s.state === 'reconnecting' && office.everOpen) {
      banner.hidden = false;
      banner.className = 'conn-banner';
      banner.textContent = 'Reconnecting to the office… Calls resume once the connection is back.';
    } else if (s.state === 'closed' && s.code && s.code !== 1000) {
      banner.hidden = false;
      banner.className = 'conn-banner error';
      banner.textContent = s.code === 4000 ? 'This page is out of date. Please reload it.' : `The connection to the office was closed (${s.reason || s.code}). Reload the page to reconnect.`;
    } else {
      banner.hidden = true;
    }
  };

  const drawRing = () => {
    const call = office.call;
    const wanted = call && call.dir === 'in' && call.state === 'ringing' ? call : null;
    if (ringing && (!wanted || wanted.id !== ringing.callId)) {
      const r = ringing;
      ringing = null;
      r.close();
    }
    if (wanted && !ringing) ringing = { callId: wanted.id, close: openRing(office, wanted, () => { ringing = null; }) };
  };

  const draw = () => {
    const room = office.currentRoom();
    const call = office.call;
    const outgoing = call && call.dir === 'out' && call.state !== 'accepted' ? call : null;
    stage.hidden = !room && !outgoing;
    document.body.classList.toggle('in-room', Boolean(room));
    if (stage.hidden) {
      stage.replaceChildren();
      resized.disconnect();
      tiles.clear();
      return;
    }
    if (!room && outgoing) {
      resized.disconnect();
      tiles.clear();
      stage.replaceChildren(outgoingBar(office, outgoing));
      return;
    }
    if (!room) return;
    let grid = /** @type {HTMLElement|null} */ (stage.querySelector('.video-grid'));
    if (!grid || stage.dataset.roomId !== room.id) {
      resized.disconnect();
      tiles.clear();
      grid = h('div', { class: 'video-grid', role: 'list', 'aria-label': 'Participants' });
      stage.dataset.roomId = room.id;
      const meeting = office.me.role !== 'guest' && office.rooms.some((r) => r.id === room.id && r.kind === 'meeting');
      const heading = h('h2', { class: 'stage-title', tabindex: '-1' }, room.title);
      stage.replaceChildren(
        h('div', { class: 'stage-head' }, heading, h('span', { class: 'stage-count' }),
          h('span', { class: 'stage-e2ee', role: 'status' }),
          meeting ? h('button', { type: 'button', class: 'button small', onclick: () => void openRoomChat(office, room.id) }, 'Room chat') : null),
        grid, controls(office));
      // The call takes the stage: in view, with keyboard and screen-reader focus on it (the page
      // may be scrolled, and focus may still be on the card that knocked).
      stage.scrollIntoView({ block: 'start' });
      heading.focus({ preventScroll: true });
    }
    const title = /** @type {HTMLElement} */ (stage.querySelector('.stage-title'));
    title.textContent = room.title;
    const wanted = new Map([['self', null], ...[...office.mesh.peers.keys()].map((id) => /** @type {[string, null]} */ ([id, null]))]);
    for (const [id, tile] of tiles) if (!wanted.has(id)) { resized.unobserve(tile); tile.remove(); tiles.delete(id); }
    for (const id of wanted.keys()) {
      let tile = tiles.get(id);
      if (!tile) {
        tile = videoTile(id === 'self');
        tiles.set(id, tile);
        grid.append(tile);
        if (id !== 'self') resized.observe(tile);
      }
      updateTile(office, id, tile);
    }
    grid.dataset.count = String(tiles.size);
    const count = /** @type {HTMLElement} */ (stage.querySelector('.stage-count'));
    count.textContent = tiles.size === 1 ? 'Waiting for others…' : `${tiles.size} people`;
    drawEncryption(office, /** @type {HTMLElement} */ (stage.querySelector('.stage-e2ee')));
    updateControls(office, stage);
    reportSizes();
  };

  office.onChange((topic) => {
    if (topic === 'status') drawBanner();
    if (topic === 'call') drawRing();
    if (topic === 'call' || topic === 'room' || topic === 'media' || topic === 'rooms') draw();
  });
  drawBanner();
  draw();
}

/**
 * Says how the room's media travels: through the media server it is end to end encrypted, with
 * the call safety code everyone can compare aloud (a server that slipped in a key of its own
 * would show a different one to someone).
 * @param {Office} office
 * @param {HTMLElement} note
 */
function drawEncryption(office, note) {
  const mesh = office.mesh;
  if (mesh.mode !== 'sfu') {
    note.replaceChildren();
    return;
  }
  if (mesh.unsupported) {
    note.className = 'stage-e2ee error';
    note.textContent = 'This browser cannot encrypt media end to end for a room this size; use a current Chromium, Chrome or Edge.';
    return;
  }
  const code = mesh.encryption ? mesh.encryption.code : '';
  // Keys not signed by a device of their sender (guests'): only the safety code covers them.
  const unchecked = mesh.encryption ? [...mesh.encryption.checks.values()].filter((c) => c !== 'device').length : 0;
  note.className = 'stage-e2ee';
  note.replaceChildren(h('span', { 'aria-hidden': 'true' }, '🔒 '), 'End-to-end encrypted through the media server',
    code ? h('span', { class: 'e2ee-code' }, ' · safety code ', h('strong', { class: 'mono' }, code)) : '',
    unchecked ? h('span', { class: 'e2ee-unchecked' }, ` · ${unchecked === 1 ? 'one key' : `${unchecked} keys`} without a device (compare the code aloud)`) : '');
  note.title = 'Each member\'s call key is signed by one of their devices; everyone in the call sees the same safety code unless someone slipped in a key of their own.';
}

/**
 * The incoming call dialog; returns a function that closes it.
 * @param {Office} office
 * @param {Call} call
 * @param {() => void} closed
 * @returns {() => void}
 */
function openRing(office, call, closed) {
  let answered = false;
  const accept = h('button', { type: 'button', class: 'button primary', onclick: () => { answered = true; close(); office.answer(true); } }, 'Accept');
  const decline = h('button', { type: 'button', class: 'button danger', onclick: () => { answered = true; close(); office.answer(false); } }, 'Decline');
  const { close } = openDialog({
    title: 'Incoming call',
    className: 'ring-dialog',
    body: h('div', { class: 'ring-body' },
      h('span', { class: 'ring-pulse', 'aria-hidden': 'true' }, presenceAvatar(call.userId, call.name, office.presence.get(call.userId), 'lg')),
      h('p', { class: 'ring-text' }, h('strong', {}, call.name), call.forUserId
        ? ` is calling — for ${office.nameOf(call.forUserId) || 'a colleague'}, who is away.`
        : ' is calling you.')),
    footer: [decline, accept],
    onClose: () => {
      closed();
      // Escape or the close button decline a call that is still ringing.
      if (!answered && office.call && office.call.id === call.id && office.call.state === 'ringing') office.answer(false);
    },
  });
  accept.focus();
  return () => { answered = true; close(); };
}

/**
 * The status of an outgoing call, with Cancel.
 * @param {Office} office
 * @param {Call} call
 * @returns {HTMLElement}
 */
function outgoingBar(office, call) {
  const live = call.state === 'calling' || call.state === 'ringing';
  let text = live ? `${OUTGOING[call.state]} ${call.name}` : call.state === 'failed' || call.state === 'cancelled' ? OUTGOING[call.state] : `${call.name} ${OUTGOING[call.state]}`;
  if (call.away && (live || call.state === 'away')) text = awayNotice(office, call.away);
  if (call.dndFor && live) text = `${call.dndFor.name} does not want to be disturbed: ringing their deputy, ${call.name}…`;
  if (call.dndFor && call.state === 'busy') text = `${call.dndFor.name} does not want to be disturbed, and their deputy, ${call.name}, is busy.`;
  // A knock on a colleague in a meeting is answered busy (unless they let meetings ring): say why.
  const meeting = office.presence.get(call.userId)?.meeting;
  if (call.state === 'busy' && !call.away && meeting && !meeting.rings) {
    text = `${inMeeting(call.name, meeting)}, so the knock did not ring.`;
  }
  return h('div', { class: 'outgoing' + (live ? ' live' : ''), dataset: { callState: call.state } },
    h('span', { class: live ? 'ring-pulse' : '', 'aria-hidden': 'true' }, presenceAvatar(call.userId, call.name, office.presence.get(call.userId), 'sm')),
    h('p', { class: 'outgoing-text', role: 'status' }, text),
    live
      ? h('button', { type: 'button', class: 'button danger small', onclick: () => office.hangUp() }, 'Cancel')
      : h('button', { type: 'button', class: 'button small', onclick: () => office.dismissCall() }, 'Dismiss'));
}

/**
 * What the caller learns when the colleague knocked on is away: until when, and who is rung instead.
 * @param {Office} office
 * @param {import('/live/live-office.js').AwayKnock} away
 * @returns {string}
 */
function awayNotice(office, away) {
  const gone = `${away.name} is away until ${formatLastDay(away.until)}.`;
  if (!away.deputyId) return `${gone} Nobody stands in.`;
  if (away.deputyId === office.me.id) return `${gone} You stand in for ${away.name}.`;
  const deputy = office.nameOf(away.deputyId) || 'Their deputy';
  return `${gone} ${deputy} stands in — ringing ${deputy}.`;
}

/**
 * @param {boolean} self
 * @returns {HTMLElement}
 */
function videoTile(self) {
  const video = h('video', { autoplay: true, playsinline: true });
  video.muted = self; // the self view never plays the own microphone back
  return h('figure', { class: 'video-tile' + (self ? ' self' : ''), role: 'listitem' },
    video,
    h('div', { class: 'tile-avatar', 'aria-hidden': 'true' }),
    h('figcaption', {}, h('span', { class: 'tile-name' }), h('span', { class: 'tile-marks' })));
}

/**
 * @param {Office} office
 * @param {string} id 'self' or a peer id
 * @param {HTMLElement} tile
 */
function updateTile(office, id, tile) {
  const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
  const self = id === 'self';
  const peer = self ? null : office.mesh.peers.get(id);
  const stream = self ? office.media.stream : peer ? peer.stream : null;
  if (stream && video.srcObject !== stream) video.srcObject = stream;
  const state = self ? office.media.state : peer ? peer.info.media_state : null;
  const plain = self ? office.me.name : (peer && (peer.info.name || office.nameOf(peer.info.user_id))) || 'Colleague';
  const guest = self ? office.me.role === 'guest' : Boolean(peer && peer.info.guest);
  const name = self ? `${plain} (you)` : plain;
  tile.classList.toggle('guest', guest);
  const userId = self ? office.me.id : peer ? peer.info.user_id : '';
  /** @type {HTMLElement} */ (tile.querySelector('.tile-name')).textContent = name;
  // Through the media server only the last speakers' video goes round: the others show their picture.
  const forwarded = self || office.mesh.mode !== 'sfu' || !office.mesh.forwardedVideo || office.mesh.forwardedVideo.has(id);
  const hasVideo = Boolean(state && (state.camera || state.screen) && forwarded);
  // The most recent speakers first.
  const rank = office.mesh.mode === 'sfu' && !self ? office.mesh.speakers.indexOf(id) : -1;
  tile.style.order = self ? '' : String(rank < 0 ? office.mesh.speakers.length : rank);
  tile.classList.toggle('no-video', !hasVideo);
  // One's own camera shows as a mirror; one's shared screen as others see it (text readable).
  tile.classList.toggle('screen', Boolean(state && state.screen));
  tile.classList.toggle('speaking', Boolean(state && state.speaking && !state.muted));
  tile.classList.toggle('muted', Boolean(state && state.muted));
  tile.dataset.peerId = id;
  const avatar = /** @type {HTMLElement} */ (tile.querySelector('.tile-avatar'));
  if (!avatar.firstChild && userId) avatar.append(avatarFor(userId, plain, 'lg'));
  const marks = /** @type {HTMLElement} */ (tile.querySelector('.tile-marks'));
  marks.replaceChildren(
    guest ? h('span', { class: 'guest-tag' }, 'Guest') : '',
    state && state.muted ? h('span', { title: 'Muted' }, icon('micOff'), h('span', { class: 'sr-only' }, ' muted')) : '',
    state && state.screen ? h('span', { title: 'Sharing the screen' }, icon('screen'), h('span', { class: 'sr-only' }, ' sharing the screen')) : '',
    state && state.speaking && !state.muted ? h('span', { class: 'sr-only' }, ' speaking') : '',
    peer && (peer.pc.connectionState === 'connecting' || peer.pc.connectionState === 'new') ? h('span', { class: 'tile-state' }, ' connecting…') : '',
    peer && peer.pc.connectionState === 'failed' ? h('span', { class: 'tile-state' }, ' connection failed') : '');
}

/**
 * The control bar: mute, camera, screen, devices, leave.
 * @param {Office} office
 * @returns {HTMLElement}
 */
function controls(office) {
  const m = office.media;
  const devices = h('div', { class: 'devices', hidden: true });
  const toggleDevices = h('button', { type: 'button', class: 'button small', 'aria-expanded': 'false', dataset: { control: 'devices' } }, 'Devices');
  toggleDevices.addEventListener('click', async () => {
    const show = devices.hidden;
    devices.hidden = !show;
    toggleDevices.setAttribute('aria-expanded', String(show));
    if (show) await drawDevices(office, devices);
  });
  return h('div', { class: 'controls', role: 'toolbar', 'aria-label': 'Call controls' },
    h('button', { type: 'button', class: 'button small', dataset: { control: 'mute' }, 'aria-pressed': 'false', onclick: () => m.setMuted(!m.state.muted) }, 'Mute'),
    h('button', { type: 'button', class: 'button small', dataset: { control: 'camera' }, 'aria-pressed': 'false', onclick: () => void m.setCamera(!m.state.camera) }, 'Camera off'),
    h('button', { type: 'button', class: 'button small', dataset: { control: 'screen' }, 'aria-pressed': 'false', onclick: () => void m.setScreen(!m.state.screen) }, 'Share screen'),
    toggleDevices,
    h('button', {
      type: 'button', class: 'button small', dataset: { control: 'withdraw' }, hidden: !storedConsent(),
      title: 'Stops camera and microphone now and withdraws your consent to their use',
      onclick: () => void withdraw(m),
    }, 'Withdraw consent'),
    h('button', { type: 'button', class: 'button small danger', dataset: { control: 'leave' }, onclick: () => office.leave() }, 'Leave'),
    h('p', { class: 'media-problem', role: 'alert' }),
    devices);
}

/**
 * @param {Office} office
 * @param {HTMLElement} stage
 */
function updateControls(office, stage) {
  const s = office.media.state;
  /** @param {string} name @param {boolean} on @param {string} label */
  const set = (name, on, label) => {
    const b = stage.querySelector(`[data-control="${name}"]`);
    if (!b) return;
    b.setAttribute('aria-pressed', String(on));
    b.textContent = label;
  };
  set('mute', s.muted, s.muted ? 'Unmute' : 'Mute');
  set('camera', !s.camera, s.camera ? 'Camera off' : 'Camera on');
  set('screen', s.screen, s.screen ? 'Stop sharing' : 'Share screen');
  const withdrawButton = /** @type {HTMLElement|null} */ (stage.querySelector('[data-control="withdraw"]'));
  if (withdrawButton) withdrawButton.hidden = !storedConsent();
  const problem = stage.querySelector('.media-problem');
  if (problem) problem.textContent = office.media.problem;
}

/**
 * The microphone and camera menus.
 * @param {Office} office
 * @param {HTMLElement} host
 * @returns {Promise<void>}
 */
async function drawDevices(office, host) {
  const d = await office.media.devices();
  /**
   * @param {string} id @param {string} label @param {MediaDeviceInfo[]} list @param {string} current @param {'audio'|'video'} kind
   * @returns {HTMLElement}
   */
  const menu = (id, label, list, current, kind) => h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, onchange: (/** @type {Event} */ e) => void office.media.useDevice(kind, /** @type {HTMLSelectElement} */ (e.target).value) },
      list.length ? list.map((dev, i) => h('option', { value: dev.deviceId, selected: dev.deviceId === current }, dev.label || `${label} ${i + 1}`)) : h('option', { value: '' }, 'None found')));
  host.replaceChildren(menu('device-mic', 'Microphone', d.microphones, d.micId, 'audio'), menu('device-cam', 'Camera', d.cameras, d.camId, 'video'));
}
