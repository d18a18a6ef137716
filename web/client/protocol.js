// The signaling client: one WebSocket to /api/ws, typed messages (docs/protocol.md), keep-alive,
// reconnection with backoff, and re-applying presence and the room after a reconnection.
// No DOM here: the UI listens to events; node tests drive it with a fake WebSocket.

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 2;

/**
 * @typedef {import('/client/messages.js').Status} Status
 * @typedef {import('/client/messages.js').Availability} Availability
 * @typedef {import('/client/messages.js').Location} Location
 * @typedef {import('/client/messages.js').RoomKind} RoomKind
 * @typedef {import('/client/messages.js').CallState} CallState
 * @typedef {import('/client/messages.js').ErrorCode} ErrorCode
 * @typedef {import('/client/messages.js').MediaState} MediaState
 * @typedef {import('/client/messages.js').UserPresence} UserPresence
 * @typedef {import('/client/messages.js').PeerInfo} PeerInfo
 * @typedef {import('/client/messages.js').RoomState} RoomState
 * @typedef {import('/client/messages.js').Meeting} Meeting
 * @typedef {import('/client/messages.js').NextBusy} NextBusy
 * @typedef {import('/client/messages.js').PresenceUpdate} PresenceUpdate
 * @typedef {import('/client/messages.js').WelcomeMsg} WelcomeMsg
 * @typedef {import('/client/messages.js').PresenceMsg} PresenceMsg
 * @typedef {import('/client/messages.js').RoomMsg} RoomMsg
 * @typedef {import('/client/messages.js').RoomsMsg} RoomsMsg
 * @typedef {import('/client/messages.js').JoinedMsg} JoinedMsg
 * @typedef {import('/client/messages.js').PeerJoinedMsg} PeerJoinedMsg
 * @typedef {import('/client/messages.js').PeerLeftMsg} PeerLeftMsg
 * @typedef {import('/client/messages.js').RingMsg} RingMsg
 * @typedef {import('/client/messages.js').AwayMsg} AwayMsg
 * @typedef {import('/client/messages.js').CallUpdateMsg} CallUpdateMsg
 * @typedef {import('/client/messages.js').SignalMsg} SignalMsg
 * @typedef {import('/client/messages.js').MediaStateMsg} MediaStateMsg
 * @typedef {import('/client/messages.js').ErrorMsg} ErrorMsg
 * @typedef {import('/client/messages.js').PongMsg} PongMsg
 * @typedef {import('/client/messages.js').GuestWaitingMsg} GuestWaitingMsg
 * @typedef {import('/client/messages.js').GuestLeftMsg} GuestLeftMsg
 * @typedef {import('/client/messages.js').AdmittedMsg} AdmittedMsg
 * @typedef {import('/client/messages.js').InboxMsg} InboxMsg
 * @typedef {import('/client/messages.js').ConversationsMsg} ConversationsMsg
 * @typedef {import('/client/messages.js').GuestAccess} GuestAccess
 * @typedef {import('/client/messages.js').ConnectionStatus} ConnectionStatus
 * @typedef {import('/client/messages.js').Events} Events
 * @typedef {import('/client/messages.js').ClientMsg} ClientMsg
 */

/**
 * What the client needs from its environment; tests pass fakes.
 * @typedef {object} Environment
 * @property {new (url: string) => WebSocket} WebSocket
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 * @property {() => number} random A number in [0, 1), for jitter.
 */

/** Close codes after which the client reconnects (1001 going away, abnormal drops, server errors). */
const RECONNECT_CODES = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1014]);
const PING_MS = 20000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/** A signaling connection that keeps itself open. */
export class SignalClient {
  /**
   * @param {string} url The WebSocket URL, e.g. from {@link socketUrl}.
   * @param {Partial<Environment>} [env]
   */
  constructor(url, env = {}) {
    this.url = url;
    /** @type {Environment} */
    this.env = {
      WebSocket: env.WebSocket || globalThis.WebSocket,
      setTimeout: env.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms)),
      clearTimeout: env.clearTimeout || ((id) => globalThis.clearTimeout(id)),
      random: env.random || Math.random,
    };
    /** @type {WebSocket|null} */
    this.socket = null;
    /** This connection's peer id (changes with every connection). */
    this.peerId = '';
    /** The signed-in user's id. */
    this.userId = '';
    /** @type {import('/client/messages.js').IceServer[]} */
    this.iceServers = [];
    /** The room the client is in (or joining), '' when none. */
    this.roomId = '';
    /** @type {PresenceUpdate} The user's own choices, re-sent after every reconnection. */
    this.presence = {};
    /** @type {MediaState|null} The last media state sent, re-sent after rejoining. */
    this.mediaState = null;
    /** Whether the server confirmed the current room with `joined`. */
    this.joinedRoom = false;
    /** @type {ConnectionStatus} */
    this.status = { state: 'closed' };
    this.attempts = 0;
    this.stopped = true;
    /** @type {any} */
    this.retryTimer = null;
    /** @type {any} */
    this.pingTimer = null;
    /** @type {Map<string, Set<(msg: any) => void>>} */
    this.handlers = new Map();
  }

  /**
   * Listens to an event; returns a function that stops listening.
   * @template {keyof Events} K
   * @param {K} type
   * @param {(msg: Events[K]) => void} handler
   * @returns {() => void}
   */
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => { set && set.delete(handler); };
  }

  /**
   * @template {keyof Events} K
   * @param {K} type
   * @param {Events[K]} msg
   */
  emit(type, msg) {
    for (const handler of [...(this.handlers.get(type) || [])]) {
      try {
        handler(msg);
      } catch (err) {
        console.error('signal handler failed', type, err);
      }
    }
  }

  /** Opens the connection (and keeps reopening it until {@link close}). */
  connect() {
    this.stopped = false;
    this.open();
  }

  /** Closes the connection for good (sign-out, page unload). */
  close() {
    this.stopped = true;
    this.env.clearTimeout(this.retryTimer);
    this.env.clearTimeout(this.pingTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, 'bye');
    }
    this.setStatus({ state: 'closed' });
  }

  /** Whether messages can be sent now. */
  get connected() {
    return Boolean(this.socket && this.socket.readyState === 1 && this.peerId);
  }

  /** @private */
  open() {
    this.setStatus({ state: this.attempts === 0 ? 'connecting' : 'reconnecting' });
    let socket;
    try {
      socket = new this.env.WebSocket(this.url);
    } catch {
      this.scheduleReconnect(1006, 'cannot connect');
      return;
    }
    this.socket = socket;
    this.peerId = '';
    socket.onmessage = (event) => { if (this.socket === socket) this.receive(event.data); };
    socket.onclose = (event) => { if (this.socket === socket) this.dropped(event.code, event.reason); };
    socket.onerror = () => {};
  }

  /**
   * @param {number} code
   * @param {string} reason
   * @private
   */
  dropped(code, reason) {
    this.socket = null;
    this.peerId = '';
    this.joinedRoom = false;
    this.env.clearTimeout(this.pingTimer);
    if (this.roomId) this.emit('left', { room_id: this.roomId, reason: 'disconnected' });
    if (this.stopped) return;
    if (RECONNECT_CODES.has(code)) this.scheduleReconnect(code, reason);
    else {
      this.stopped = true;
      this.roomId = '';
      this.setStatus({ state: 'closed', code, reason });
    }
  }

  /**
   * @param {number} code
   * @param {string} reason
   * @private
   */
  scheduleReconnect(code, reason) {
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(this.attempts, 10));
    const delay = Math.round(base * (0.75 + 0.5 * this.env.random()));
    this.attempts += 1;
    this.setStatus({ state: 'reconnecting', code, reason, retryIn: delay });
    this.retryTimer = this.env.setTimeout(() => { if (!this.stopped) this.open(); }, delay);
  }

  /**
   * @param {ConnectionStatus} status
   * @private
   */
  setStatus(status) {
    this.status = status;
    this.emit('status', status);
  }

  /** @private */
  schedulePing() {
    this.env.clearTimeout(this.pingTimer);
    this.pingTimer = this.env.setTimeout(() => {
      if (this.connected) this.send({ type: 'ping' });
      this.schedulePing();
    }, PING_MS);
  }

  /**
   * Handles one frame from the server. Unknown types and fields are ignored.
   * @param {unknown} data
   * @private
   */
  receive(data) {
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'welcome': this.welcomed(msg); return;
      case 'joined': this.roomId = msg.room_id; break;
      case 'peer_left':
        if (msg.peer_id === this.peerId && msg.room_id === this.roomId) {
          this.roomId = '';
          this.emit('peer_left', msg);
          this.emit('left', { room_id: msg.room_id, reason: 'removed' });
          return;
        }
        break;
      case 'error':
        if (['unknown_room', 'room_full', 'door_closed', 'do_not_disturb'].includes(msg.code) && this.roomId && !this.joinedRoom) {
          const room = this.roomId;
          this.roomId = '';
          this.emit('error', msg);
          this.emit('left', { room_id: room, reason: 'refused' });
          return;
        }
        break;
      default:
    }
    if (msg.type === 'joined') {
      this.joinedRoom = true;
      if (this.mediaState) this.send({ type: 'media_state', ...this.mediaState });
    }
    if (this.handlers.has(msg.type)) this.emit(/** @type {keyof Events} */ (msg.type), msg);
  }

  /**
   * @param {WelcomeMsg} msg
   * @private
   */
  welcomed(msg) {
    const wasReconnect = this.attempts > 0;
    this.attempts = 0;
    this.peerId = msg.peer_id;
    this.userId = msg.user_id;
    this.iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
    this.send({ type: 'hello', version: PROTOCOL_VERSION });
    if (Object.keys(this.presence).length > 0) this.send({ type: 'set_presence', ...this.presence });
    this.schedulePing();
    this.setStatus({ state: 'open' });
    this.emit('welcome', msg);
    // Rooms do not survive a disconnection: walk back into the organisation room we were in.
    // A call room ended with the disconnection, so it is not rejoined.
    const room = this.roomId;
    this.roomId = '';
    if (room && !room.startsWith('call:')) this.joinRoom(room);
    else if (room && wasReconnect) this.emit('left', { room_id: room, reason: 'removed' });
  }

  /**
   * Sends one message; returns false when the connection is down (the message is dropped).
   * @param {ClientMsg} msg Checked by tsc against web/client/messages.js, which crates/signal/tests/wire_types.rs checks against the Rust types.
   * @returns {boolean}
   */
  send(msg) {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  /**
   * Changes the user's presence and remembers it for reconnections.
   * @param {PresenceUpdate} update
   * @returns {boolean}
   */
  setPresence(update) {
    this.presence = { ...this.presence, ...update };
    return this.send({ type: 'set_presence', ...update });
  }

  /**
   * Walks into a room (leaving the current one); answered by `joined` or an `error`.
   * @param {string} roomId
   * @returns {boolean}
   */
  joinRoom(roomId) {
    this.roomId = roomId;
    this.joinedRoom = false;
    return this.send({ type: 'join_room', room_id: roomId });
  }

  /**
   * Leaves the current room.
   * @returns {boolean}
   */
  leaveRoom() {
    const room = this.roomId;
    if (!room) return false;
    this.roomId = '';
    this.joinedRoom = false;
    const sent = this.send({ type: 'leave_room' });
    this.emit('left', { room_id: room, reason: 'left' });
    return sent;
  }

  /**
   * Rings a colleague.
   * @param {string} userId
   * @returns {boolean}
   */
  call(userId) {
    return this.send({ type: 'call', to_user: userId });
  }

  /**
   * Accepts or declines a ringing call.
   * @param {string} callId
   * @param {boolean} accept
   * @returns {boolean}
   */
  answer(callId, accept) {
    return this.send({ type: 'call_answer', call_id: callId, accept });
  }

  /**
   * Hangs up a call that is still ringing.
   * @param {string} callId
   * @returns {boolean}
   */
  cancelCall(callId) {
    return this.send({ type: 'call_cancel', call_id: callId });
  }

  /**
   * Lets a waiting guest into their room (members only).
   * @param {string} userId The guest's id from `guest_waiting`.
   * @returns {boolean}
   */
  admitGuest(userId) {
    return this.send({ type: 'admit_guest', user_id: userId });
  }

  /**
   * Turns a waiting guest away (members only); the guest's connections close with 4004.
   * @param {string} userId
   * @returns {boolean}
   */
  refuseGuest(userId) {
    return this.send({ type: 'refuse_guest', user_id: userId });
  }

  /**
   * Relays a WebRTC payload to another peer of the organisation.
   * @param {string} peerId
   * @param {unknown} payload
   * @returns {boolean}
   */
  signal(peerId, payload) {
    return this.send({ type: 'signal', to_peer: peerId, payload });
  }

  /**
   * Sends the media server an offer (in a room that uses it), or an answer to its offer.
   * @param {'sfu_offer'|'sfu_answer'} type
   * @param {string} sdp
   * @returns {boolean}
   */
  sendToMediaServer(type, sdp) {
    return this.send({ type, sdp });
  }

  /**
   * Tells the media server the largest simulcast layer wanted of each peer's video (by the
   * size the page shows it at).
   * @param {Record<string, import('/client/messages.js').VideoLayer>} layers By peer id.
   * @returns {boolean}
   */
  sendVideoLayers(layers) {
    return this.send({ type: 'sfu_layers', layers });
  }

  /**
   * Tells the room about the microphone, camera, screen and voice activity.
   * @param {MediaState} state
   * @returns {boolean}
   */
  sendMediaState(state) {
    this.mediaState = { ...state };
    if (!this.roomId || !this.joinedRoom) return false;
    return this.send({ type: 'media_state', ...state });
  }
}

/**
 * The signaling URL of a page's origin: `wss:` on HTTPS, `ws:` otherwise.
 * @param {{protocol: string, host: string}} location
 * @returns {string}
 */
export function socketUrl(location) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/ws`;
}
