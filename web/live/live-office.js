// The live office of the signed-in user: the signaling connection, presence and rooms, calls
// (ringing, accepted, ended), the mesh of the current room and the data links for messages and
// files. It lives from sign-in to sign-out, across page changes; the UI listens to `onChange`.

import * as api from '/client/api.js';
import { SignalClient, socketUrl } from '/client/protocol.js';
import { LocalMedia } from '/live/media.js';
import { Mesh } from '/live/rtc.js';
import { Transfers } from '/live/transfer.js';
import { Mailbox } from '/live/mailbox.js';
import { settings as privacySettings } from '/client/privacy-api.js';
import { notePictures, notePresencePicture } from '/client/pictures.js';

/**
 * @typedef {import('/client/messages.js').UserPresence} UserPresence
 * @typedef {import('/client/messages.js').RoomState} RoomState
 * @typedef {import('/client/messages.js').ConnectionStatus} ConnectionStatus
 */

/**
 * A call (knock) this tab takes part in.
 * @typedef {object} Call
 * @property {'out'|'in'} dir
 * @property {string} id '' until the server names it.
 * @property {string} userId The other party.
 * @property {string} name
 * @property {'calling'|'ringing'|'accepted'|'declined'|'busy'|'noted'|'no_answer'|'cancelled'|'ended'|'offline'|'failed'|'away'} state
 *   `away`: the colleague knocked on is away and nobody else stands in; `noted`: they do not
 *   want to be disturbed, nothing rang, they see that you knocked.
 * @property {boolean} answered This tab accepted it.
 * @property {AwayKnock} [away] Outgoing: the colleague knocked on is away; `userId` is then their
 *   deputy, whom the knock rings instead.
 * @property {{userId: string, name: string}} [dndFor] Outgoing: the colleague knocked on does not
 *   want to be disturbed; `userId` is then their deputy, whom the knock rings instead.
 * @property {string} [forUserId] Incoming: the absent colleague this knock was meant for.
 */

/**
 * Whom a knock was meant for when they turned out to be away.
 * @typedef {object} AwayKnock
 * @property {string} userId
 * @property {string} name
 * @property {number} until When they are back (Unix ms, the end of the absence).
 * @property {string|null} deputyId
 */

/**
 * A knock this user missed: it rang and nobody answered (or the caller gave up), or it did not
 * ring because they did not want to be disturbed.
 * @typedef {object} MissedKnock
 * @property {string} userId
 * @property {string} name
 * @property {number} at When (Unix ms).
 * @property {'unanswered'|'dnd'} why
 */

/**
 * What changed, so that views redraw only what they show.
 * @typedef {'presence'|'rooms'|'call'|'room'|'status'|'media'|'knocks'} Topic
 */

export class Office {
  /** @param {api.User} me */
  constructor(me) {
    this.me = me;
    this.signal = new SignalClient(socketUrl(location));
    this.media = new LocalMedia();
    this.mesh = new Mesh(this.signal, this.media);
    this.transfers = new Transfers(this.signal, (id) => this.presence.get(id), api.reportTransfer);
    /** Messages that wait for offline colleagues, and this device's inbox and history. */
    this.mailbox = new Mailbox(me, this.signal, this.transfers, (id) => this.isOnline(id), api.reportTransfer);
    // Per-call keys through the media server are signed by this device and checked against the
    // sender's devices; a guest has none.
    this.mesh.identity = {
      device: () => (me.role === 'guest' ? Promise.resolve(null) : this.mailbox.device()),
      devicesOf: me.role === 'guest' ? null : (userId) => api.userDevices(userId),
    };
    /** @type {Map<string, UserPresence>} */
    this.presence = new Map();
    /** @type {MissedKnock[]} Knocks while this user did not want to be disturbed, newest first. */
    this.knocks = [];
    /** Why the server kept this user out of the room they tried last (a closed door), or ''. */
    this.refusal = '';
    /** @type {RoomState[]} */
    this.rooms = [];
    /** @type {Map<string, string>} Names from the directory, for people the hub has not seen yet. */
    this.names = new Map();
    /** @type {Call|null} */
    this.call = null;
    /** The room this tab is in ('' when none), and its state for call rooms. */
    this.roomId = '';
    /** Whether the connection was open once (the first connection shows no banner). */
    this.everOpen = false;
    /** Processing of the user's data is restricted (privacy centre): out of the live office. */
    this.restricted = false;
    /** @type {Set<(topic: Topic) => void>} */
    this.listeners = new Set();
    /** @type {any} */
    this.clearCallTimer = null;
    this.wire();
  }

  /**
   * @param {(topic: Topic) => void} fn
   * @returns {() => void}
   */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * @param {Topic} topic
   * @private
   */
  changed(topic) {
    for (const fn of [...this.listeners]) fn(topic);
  }

  /**
   * Whether a colleague has an open connection now.
   * @param {string} userId
   * @returns {boolean}
   */
  isOnline(userId) {
    const p = this.presence.get(userId);
    return Boolean(p && p.status !== 'offline' && p.peers.length);
  }

  /** @private */
  wire() {
    const s = this.signal;
    s.on('welcome', (msg) => {
      this.everOpen = true;
      this.presence = new Map(msg.presence.map((p) => [p.user_id, p]));
      msg.presence.forEach(notePresencePicture);
      this.rooms = msg.rooms;
      this.changed('presence');
      this.changed('rooms');
    });
    s.on('presence', (msg) => {
      this.presence.set(msg.user.user_id, msg.user);
      // A new picture (or none any more) shows wherever the avatar is drawn again.
      notePresencePicture(msg.user);
      this.changed('presence');
    });
    s.on('rooms', (msg) => {
      this.rooms = msg.rooms;
      this.changed('rooms');
    });
    s.on('room', (msg) => {
      const i = this.rooms.findIndex((r) => r.id === msg.room.id);
      if (i >= 0) this.rooms[i] = msg.room;
      else if (msg.room.kind !== 'call') this.rooms.push(msg.room);
      this.changed('rooms');
    });
    s.on('joined', (msg) => {
      this.roomId = msg.room_id;
      this.changed('room');
    });
    s.on('left', (msg) => {
      if (this.roomId === msg.room_id || !s.roomId) this.roomId = '';
      if (this.call && this.call.state === 'accepted' && msg.room_id.startsWith('call:') && msg.reason !== 'refused') this.endCall('ended');
      this.changed('room');
    });
    s.on('status', (status) => {
      this.changed('status');
      if (status.state === 'reconnecting' && s.attempts >= 2) void api.me().catch(() => {}); // a 401 ends the session
      // 4002: removed; 4006: this sign-in ended (signed out in another tab): a 401 ends the page's session.
      if (status.state === 'closed' && (status.code === 4002 || status.code === 4006)) void api.me().catch(() => {});
      // A restricted user is closed with 4002 and then refused at the handshake (a 403, seen as 1006).
      if ((status.state === 'reconnecting' || status.code === 4002) && !this.restricted) void this.checkRestricted();
    });
    s.on('ring', (msg) => {
      if (this.call && this.call.state !== 'ringing' && this.call.dir === 'in') return;
      this.call = { dir: 'in', id: msg.call_id, userId: msg.from_user, name: msg.from_name, state: 'ringing', answered: false, forUserId: msg.for_user };
      this.changed('call');
    });
    // The colleague we knocked on is away: the server says so before anything rings, then rings
    // their deputy (the call goes on with them) or, without one, nobody.
    s.on('away', (msg) => {
      const call = this.call;
      if (!call || call.dir !== 'out' || call.id || call.userId !== msg.user_id) return;
      call.away = { userId: msg.user_id, name: call.name, until: msg.until, deputyId: msg.deputy_id };
      if (msg.deputy_id && msg.deputy_id !== this.me.id) {
        call.userId = msg.deputy_id;
        call.name = this.nameOf(msg.deputy_id) || 'their deputy';
        this.changed('call');
      } else {
        this.endCall('away');
      }
    });
    s.on('call_update', (msg) => {
      const call = this.call;
      if (!call) return;
      if (call.dir === 'out' && !call.id && ['ringing', 'busy', 'noted', 'declined', 'no_answer'].includes(msg.state)) call.id = msg.call_id;
      if (call.id !== msg.call_id) return;
      // Do not disturb: the server rings their deputy instead, and says whom.
      if (call.dir === 'out' && msg.deputy_id && msg.deputy_id !== call.userId) {
        call.dndFor = { userId: call.userId, name: call.name };
        call.userId = msg.deputy_id;
        call.name = this.nameOf(msg.deputy_id) || 'their deputy';
      }
      if (msg.state === 'accepted') {
        call.state = 'accepted';
        if ((call.dir === 'out' || call.answered) && msg.room_id) s.joinRoom(msg.room_id);
        else this.call = null; // another tab of ours took it
      } else if (msg.state === 'ringing') {
        call.state = 'ringing';
      } else {
        // A knock that rang here and ended unanswered stays as a missed knock, to call back.
        if (call.dir === 'in' && call.state === 'ringing' && (msg.state === 'no_answer' || msg.state === 'cancelled')) this.noteKnock(call.userId, call.name, 'unanswered');
        this.endCall(msg.state);
        return;
      }
      this.changed('call');
    });
    // A colleague knocked while we did not want to be disturbed: nothing rang; kept as a note.
    s.on('knocked', (msg) => this.noteKnock(msg.from_user, msg.from_name, 'dnd'));
    s.on('error', (msg) => {
      if (msg.code === 'door_closed' || msg.code === 'do_not_disturb') {
        this.refusal = msg.message;
        this.changed('room');
      }
      if (this.call && this.call.dir === 'out' && !this.call.id && (msg.code === 'user_offline' || msg.code === 'busy')) {
        this.endCall(msg.code === 'user_offline' ? 'offline' : 'failed');
      }
    });
    this.media.onChange(() => this.changed('media'));
    this.mesh.onChange(() => this.changed('media'));
  }

  /**
   * Ends the call: an outgoing one shows its outcome for a moment, an incoming one goes at once.
   * @param {Call['state']} state
   * @private
   */
  endCall(state) {
    const call = this.call;
    if (!call) return;
    clearTimeout(this.clearCallTimer);
    if (call.dir === 'out' && state !== 'ended' && state !== 'cancelled') {
      call.state = state;
      this.clearCallTimer = setTimeout(() => {
        if (this.call === call) {
          this.call = null;
          this.changed('call');
        }
      }, 5000);
    } else {
      this.call = null;
    }
    this.changed('call');
  }

  /** Opens the connection. */
  start() {
    this.signal.connect();
    if (this.me.role === 'guest') return; // a guest sees no directory
    api.users('').then((list) => {
      this.names = new Map(list.map((u) => [u.id, u.name]));
      notePictures(list);
      this.changed('presence');
    }).catch(() => {});
  }

  /** Asks the server whether processing is restricted, and leaves the live office if so. */
  async checkRestricted() {
    if (this.me.role === 'guest') return;
    try {
      if ((await privacySettings()).restricted) this.setRestricted(true);
    } catch {
      // offline or signed out: the reconnection and session checks deal with it
    }
  }

  /**
   * Leaves the live office while processing is restricted, and comes back when it is lifted.
   * @param {boolean} on
   */
  setRestricted(on) {
    if (this.restricted === on) return;
    this.restricted = on;
    if (on) {
      this.mesh.closeAll();
      this.signal.close();
      this.presence = new Map();
      this.roomId = '';
      if (this.call) this.endCall('ended');
    } else {
      this.signal.attempts = 0;
      this.signal.connect();
    }
    this.changed('status');
  }

  /** Closes everything (sign-out). */
  stop() {
    this.mesh.closeAll();
    this.signal.close();
    for (const link of this.transfers.links.values()) link.pc.close();
  }

  /**
   * Rings a colleague.
   * @param {string} userId
   */
  ring(userId) {
    const who = this.presence.get(userId);
    clearTimeout(this.clearCallTimer);
    this.call = { dir: 'out', id: '', userId, name: who ? who.name : 'Colleague', state: 'calling', answered: false };
    if (!this.signal.call(userId)) this.call.state = 'failed';
    this.changed('call');
  }

  /** Hangs up: cancels a ringing call, or leaves the call room. */
  hangUp() {
    const call = this.call;
    if (call && call.dir === 'out' && call.state !== 'accepted') {
      if (call.id) this.signal.cancelCall(call.id);
      this.call = null;
      this.changed('call');
      return;
    }
    this.leave();
  }

  /**
   * Opens or closes the door of this user's office: colleagues walk in, or knock.
   * @param {'open'|'closed'} door
   */
  setDoor(door) {
    this.signal.setPresence({ door });
  }

  /** The door of this user's office as colleagues see it. @returns {'open'|'closed'} */
  myDoor() {
    return this.presence.get(this.me.id)?.door || 'open';
  }

  /**
   * Keeps a missed knock (the newest first, at most 20).
   * @param {string} userId
   * @param {string} name
   * @param {MissedKnock['why']} why
   * @private
   */
  noteKnock(userId, name, why) {
    this.knocks = [{ userId, name, at: Date.now(), why }, ...this.knocks].slice(0, 20);
    this.changed('knocks');
  }

  /**
   * Forgets a knock note (after calling back, or dismissed).
   * @param {MissedKnock} knock
   */
  dismissKnock(knock) {
    this.knocks = this.knocks.filter((k) => k !== knock);
    this.changed('knocks');
  }

  /** Forgets why the last room refused us. */
  dismissRefusal() {
    this.refusal = '';
    this.changed('room');
  }

  /** Forgets the outcome of a finished outgoing call. */
  dismissCall() {
    if (this.call && this.call.state !== 'accepted' && this.call.state !== 'calling' && this.call.state !== 'ringing') {
      this.call = null;
      this.changed('call');
    }
  }

  /**
   * Answers the ringing call.
   * @param {boolean} accept
   */
  answer(accept) {
    const call = this.call;
    if (!call || call.dir !== 'in') return;
    call.answered = accept;
    this.signal.answer(call.id, accept);
    if (!accept) this.call = null;
    this.changed('call');
  }

  /**
   * Walks into a room (leaving the current one).
   * @param {string} roomId
   */
  enter(roomId) {
    if (this.call && this.call.state === 'accepted') this.call = null;
    this.refusal = '';
    this.signal.joinRoom(roomId);
  }

  /** Leaves the current room or call. */
  leave() {
    this.signal.leaveRoom();
    if (this.call && this.call.state === 'accepted') this.endCall('ended');
  }

  /**
   * The name of a user, from presence.
   * @param {string|null|undefined} userId
   * @returns {string}
   */
  nameOf(userId) {
    if (!userId) return '';
    const p = this.presence.get(userId);
    return p ? p.name : this.names.get(userId) || '';
  }

  /** The room (or call) this tab is in, as shown on the stage. @returns {{id: string, title: string}|null} */
  currentRoom() {
    if (!this.roomId) return null;
    const room = this.rooms.find((r) => r.id === this.roomId);
    if (room) return { id: room.id, title: room.name };
    return { id: this.roomId, title: this.call ? `Call with ${this.call.name}` : 'Call' };
  }
}

/** @type {Office|null} */
let current = null;

/**
 * Starts the live office for the signed-in user (once) and returns it.
 * @param {api.User} me
 * @returns {Office}
 */
export function startOffice(me) {
  if (current && current.me.id === me.id) return current;
  if (current) current.stop();
  current = new Office(me);
  current.start();
  /** @type {any} */ (globalThis).bureau = {
    office: current, signal: current.signal, mesh: current.mesh, media: current.media,
    transfers: current.transfers, mailbox: current.mailbox, peerConnections: current.mesh.peerConnections,
  };
  return current;
}

/** Stops the live office (sign-out). */
export function stopOffice() {
  if (current) current.stop();
  current = null;
}

/** @returns {Office|null} The running office, if any. */
export function runningOffice() {
  return current;
}
