// The room's media: a full mesh, one RTCPeerConnection per other peer of the room, until the
// room grows past the organisation's threshold; then one connection to the media server
// (sfu-link.js, docs/sfu.md). In the mesh the newcomer offers to the peers listed in `joined`;
// the others answer (docs/protocol.md). Renegotiation uses the "perfect negotiation" pattern, so
// an offer collision never wedges a connection. When the room switches to the media server the
// mesh links stay until media flows through it, so that nobody sees a gap; when it switches
// back, the peer with the smaller id offers.

import { SfuLink } from '/live/sfu-link.js';
import { CallEncryption } from '/live/call-encryption.js';
import { MediaEncryption } from '/live/media-encryption.js';

/** How many times a failed connection to the media server is made again. */
const SFU_RETRIES = 5;

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/client/protocol.js').PeerInfo} PeerInfo
 * @typedef {import('/client/messages.js').MediaMode} MediaMode
 * @typedef {import('/client/messages.js').VideoLayer} VideoLayer
 * @typedef {import('/live/call-encryption.js').CallIdentity} CallIdentity
 * @typedef {import('/live/media.js').LocalMedia} LocalMedia
 */

/**
 * One remote peer of the room.
 * @typedef {object} RemotePeer
 * @property {PeerInfo} info
 * @property {RTCPeerConnection} pc Its own link in the mesh, or the connection to the media server.
 * @property {boolean} viaSfu Its media comes through the media server.
 * @property {MediaStream} stream What the peer sends.
 * @property {boolean} polite Yields on an offer collision.
 * @property {boolean} makingOffer
 * @property {boolean} ignoreOffer
 * @property {Promise<void>} queue Signals are handled one after another.
 */

const POLICY_KEY = 'bureau.iceTransportPolicy';

/**
 * The ICE transport policy: `relay` forces media through the TURN server (set
 * `localStorage['bureau.iceTransportPolicy'] = 'relay'`), `all` otherwise.
 * @returns {RTCIceTransportPolicy}
 */
export function iceTransportPolicy() {
  try {
    return localStorage.getItem(POLICY_KEY) === 'relay' ? 'relay' : 'all';
  } catch {
    return 'all';
  }
}

/** The peer connections of the room the user is in. */
export class Mesh {
  /**
   * @param {SignalClient} signal
   * @param {LocalMedia} media
   */
  constructor(signal, media) {
    this.signal = signal;
    this.media = media;
    /** The room the mesh belongs to, '' when none. */
    this.roomId = '';
    /** @type {Map<string, RemotePeer>} by peer id */
    this.peers = new Map();
    /** @type {Map<string, RTCPeerConnection>} by peer id, for tests and diagnostics (getStats). */
    this.peerConnections = new Map();
    /** @type {Promise<void>} */
    this.ready = Promise.resolve();
    /** @type {Set<() => void>} */
    this.listeners = new Set();
    /** How the room's media travels. @type {MediaMode} */
    this.mode = 'mesh';
    /** The connection to the media server, in a room that uses it. @type {SfuLink|null} */
    this.sfu = null;
    /** The end-to-end encryption of what goes through it. @type {CallEncryption|null} */
    this.encryption = null;
    /** The browser cannot encrypt media in a worker, so it does not send through the media server. */
    this.unsupported = false;
    /** Reconnections to the media server since media last flowed through it. */
    this.sfuRetries = 0;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.sfuRetryTimer = null;
    /** Through the media server: peers, the most recent speaker first. @type {string[]} */
    this.speakers = [];
    /** Through the media server: the peers whose video it forwards (the last N speakers); null: all. @type {Set<string>|null} */
    this.forwardedVideo = null;
    /** This browser's device and others' device lists, to sign and check per-call keys (set by the office). @type {CallIdentity|null} */
    this.identity = null;
    /** The layer last asked of the media server for each peer's video. @type {Map<string, VideoLayer>} */
    this.videoLayers = new Map();

    signal.on('joined', (msg) => this.joined(msg.room_id, msg.peers, msg.media_mode || 'mesh'));
    signal.on('peer_joined', (msg) => {
      if (msg.room_id !== this.roomId || msg.peer.peer_id === signal.peerId) return;
      if (this.mode === 'sfu') this.addViaSfu(msg.peer);
      else this.add(msg.peer, false);
    });
    signal.on('media_mode', (msg) => { if (msg.room_id === this.roomId) this.switchTo(msg.mode); });
    signal.on('sfu_answer', (msg) => { if (this.sfu) this.sfu.answered(msg.sdp); });
    signal.on('sfu_offer', (msg) => { if (this.sfu) this.sfu.offered(msg.sdp); });
    // The media server lost this browser's connection (or could not take it): connect again,
    // a few times, with growing pauses.
    signal.on('error', (msg) => { if (msg.code === 'media_server' && this.mode === 'sfu') this.reconnectSfu(); });
    signal.on('speakers', (msg) => {
      if (msg.room_id !== this.roomId) return;
      this.speakers = msg.peer_ids;
      // The media server forwards the first last_n speakers besides oneself, and shared screens.
      const me = this.signal.peerId;
      this.forwardedVideo = new Set(msg.peer_ids.filter((p) => p !== me).slice(0, msg.last_n));
      for (const [id, peer] of this.peers) if (peer.info.media_state.screen) this.forwardedVideo.add(id);
      this.changed();
    });
    signal.on('peer_left', (msg) => {
      if (msg.room_id !== this.roomId || msg.peer_id === signal.peerId) return;
      if (this.encryption) this.encryption.left(msg.peer_id);
      this.remove(msg.peer_id);
    });
    signal.on('left', () => this.closeAll());
    signal.on('media_state', (msg) => {
      const peer = this.peers.get(msg.peer_id);
      if (!peer) return;
      peer.info.media_state = { muted: msg.muted, camera: msg.camera, screen: msg.screen, speaking: msg.speaking };
      this.changed();
    });
    signal.on('signal', (msg) => {
      if (msg.payload && (msg.payload.kind === 'call_pub' || msg.payload.kind === 'call_key')) {
        if (this.encryption && this.peers.has(msg.from_peer)) this.encryption.received(msg.from_peer, msg.from_user, msg.payload);
        return;
      }
      if (!msg.payload || msg.payload.kind !== 'media') return;
      let peer = this.peers.get(msg.from_peer);
      // A late mesh offer once the room uses the media server has nothing to connect.
      if (peer && peer.viaSfu) return;
      if (!peer) {
        if (!this.roomId || this.mode === 'sfu' || !msg.payload.description || msg.payload.description.type !== 'offer') return;
        peer = this.add({ peer_id: msg.from_peer, user_id: msg.from_user, name: '', media_state: { muted: false, camera: true, screen: false, speaking: false } }, false);
      }
      const target = peer;
      target.queue = target.queue.then(() => this.handle(target, msg.payload)).catch((err) => console.warn('negotiation failed', err));
    });
    media.onChange(() => this.mediaChanged());
  }

  /**
   * The height each peer's video is shown at, in device pixels: through the media server a
   * small tile gets a small simulcast layer (docs/sfu.md). Sends what changed.
   * @param {Map<string, number>} heights By peer id.
   */
  showVideos(heights) {
    if (this.mode !== 'sfu' || !this.sfu) return;
    /** @type {Record<string, VideoLayer>} */
    const changed = {};
    for (const [peerId, height] of heights) {
      const layer = layerForHeight(height);
      if (this.videoLayers.get(peerId) === layer) continue;
      changed[peerId] = layer;
      this.videoLayers.set(peerId, layer);
    }
    if (Object.keys(changed).length > 0) this.signal.sendVideoLayers(changed);
  }

  /**
   * Calls `fn` when peers, their streams or their media state change.
   * @param {() => void} fn
   * @returns {() => void}
   */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @private */
  changed() {
    for (const fn of [...this.listeners]) fn();
  }

  /**
   * Entered a room: open the local media, then offer to everyone already there (or to the
   * media server).
   * @param {string} roomId
   * @param {PeerInfo[]} peers
   * @param {MediaMode} mode
   * @private
   */
  joined(roomId, peers, mode) {
    if (this.roomId && this.roomId !== roomId) this.closeAll();
    this.roomId = roomId;
    this.mode = mode;
    this.ready = this.media.start();
    if (mode === 'sfu') this.openSfu();
    for (const info of peers) {
      if (info.peer_id === this.signal.peerId) continue;
      if (mode === 'sfu') this.addViaSfu(info);
      else this.add(info, true);
    }
    if (this.encryption) this.encryption.announce([...this.peers.keys()]);
    this.changed();
  }

  /** @returns {RTCConfiguration} */
  config() {
    return { iceServers: this.signal.iceServers, iceTransportPolicy: iceTransportPolicy() };
  }

  /**
   * The room switched between the mesh and the media server, with the call going on.
   * @param {MediaMode} mode
   * @private
   */
  switchTo(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    if (mode === 'sfu') {
      // The mesh links stay until media flows through the media server (see `openSfu`).
      this.openSfu();
      if (this.encryption) this.encryption.announce([...this.peers.keys()]);
    } else {
      const link = this.sfu;
      this.sfu = null;
      if (this.encryption) this.encryption.close();
      this.encryption = null;
      this.speakers = [];
      this.forwardedVideo = null;
      for (const peer of [...this.peers.values()]) {
        if (!peer.viaSfu) continue;
        this.peers.delete(peer.info.peer_id);
        this.add(peer.info, this.signal.peerId < peer.info.peer_id);
      }
      if (link) link.close();
    }
    this.changed();
  }

  /**
   * Opens the connection to the media server, everything it carries end-to-end encrypted. A
   * browser that cannot encrypt in a worker stays out of it (and says so) rather than send
   * media the server could read.
   * @private
   */
  openSfu() {
    if (this.sfu) this.sfu.close();
    if (this.encryption) this.encryption.close();
    this.sfu = null;
    this.encryption = null;
    this.unsupported = !MediaEncryption.supported();
    if (this.unsupported) return;
    // A new connection starts at the highest layer of every video: say the sizes again.
    this.videoLayers.clear();
    const encryption = new CallEncryption(this.signal, this.roomId, () => this.changed(), this.identity);
    this.encryption = encryption;
    const link = new SfuLink(this.signal, this.media, this.config(), {
      sending: (sender, kind) => encryption.attachSender(sender, kind),
      track: (peerId, track, receiver) => {
        encryption.attachReceiver(receiver, track.kind === 'audio' ? 'audio' : 'video', peerId);
        // A new track of the peer starts at the highest layer: its size is said again.
        if (track.kind === 'video') this.videoLayers.delete(peerId);
        const peer = this.peers.get(peerId);
        if (!peer || link !== this.sfu) return;
        // During a switch the mesh link carries the peer until this track has media.
        if (peer.viaSfu || !track.muted) this.useSfuTrack(peer, track);
        else track.addEventListener('unmute', () => { if (link === this.sfu && this.peers.get(peerId) === peer) this.useSfuTrack(peer, track); }, { once: true });
      },
      changed: () => {
        if (link !== this.sfu) return;
        if (link.connected()) this.sfuRetries = 0;
        else if (link.pc.connectionState === 'failed') this.reconnectSfu();
        this.changed();
      },
    });
    this.sfu = link;
    this.ready.then(() => link.start()).catch((err) => console.warn('could not connect to the media server', err));
  }

  /**
   * Connects to the media server again after its connection failed: a new connection (new
   * keys too), after 1, 2, 4, 8 and 16 s; then the room shows the peers without media until
   * the next change of the room.
   * @private
   */
  reconnectSfu() {
    if (this.sfuRetryTimer || this.sfuRetries >= SFU_RETRIES) return;
    const delay = 1000 * 2 ** this.sfuRetries;
    this.sfuRetries += 1;
    const roomId = this.roomId;
    this.sfuRetryTimer = setTimeout(() => {
      this.sfuRetryTimer = null;
      if (this.mode !== 'sfu' || this.roomId !== roomId) return;
      const viaSfu = [...this.peers.values()].filter((p) => p.viaSfu).map((p) => p.info);
      this.openSfu();
      // The peers' tracks come again on the new connection.
      for (const info of viaSfu) {
        this.peers.delete(info.peer_id);
        this.addViaSfu(info);
      }
      if (this.encryption) this.encryption.announce([...this.peers.keys()]);
      this.changed();
    }, delay);
  }

  /**
   * Shows a track of a peer that came through the media server; once one does, the peer's mesh
   * link of before the switch is no longer needed.
   * @param {RemotePeer} peer
   * @param {MediaStreamTrack} track
   * @private
   */
  useSfuTrack(peer, track) {
    if (!this.sfu) return;
    if (!peer.viaSfu) {
      peer.pc.close();
      this.peerConnections.delete(peer.info.peer_id);
      peer.pc = this.sfu.pc;
      peer.viaSfu = true;
      for (const t of peer.stream.getTracks()) peer.stream.removeTrack(t);
    }
    for (const t of peer.stream.getTracks()) if (t.kind === track.kind && t !== track) peer.stream.removeTrack(t);
    if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
    this.changed();
  }

  /**
   * A peer whose media comes through the media server.
   * @param {PeerInfo} info
   * @private
   */
  addViaSfu(info) {
    const old = this.peers.get(info.peer_id);
    if (old) {
      old.info = info;
      return;
    }
    if (!this.sfu) return;
    this.peers.set(info.peer_id, {
      info, pc: this.sfu.pc, viaSfu: true, stream: new MediaStream(), polite: true,
      makingOffer: false, ignoreOffer: false, queue: Promise.resolve(),
    });
    this.changed();
  }

  /**
   * @param {PeerInfo} info
   * @param {boolean} offerer
   * @returns {RemotePeer}
   * @private
   */
  add(info, offerer) {
    const old = this.peers.get(info.peer_id);
    if (old) {
      old.info = info;
      return old;
    }
    const pc = new RTCPeerConnection(this.config());
    /** @type {RemotePeer} */
    const peer = {
      info, pc, viaSfu: false, stream: new MediaStream(), polite: this.signal.peerId < info.peer_id,
      makingOffer: false, ignoreOffer: false, queue: Promise.resolve(),
    };
    this.peers.set(info.peer_id, peer);
    this.peerConnections.set(info.peer_id, pc);
    const send = (/** @type {object} */ payload) => this.signal.signal(info.peer_id, { kind: 'media', ...payload });
    pc.onicecandidate = ({ candidate }) => { if (candidate) send({ candidate: candidate.toJSON() }); };
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        send({ description: pc.localDescription && pc.localDescription.toJSON() });
      } catch (err) {
        console.warn('offer failed', err);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.ontrack = ({ track }) => {
      for (const t of peer.stream.getTracks()) if (t.kind === track.kind && t !== track) peer.stream.removeTrack(t);
      if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
      this.changed();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && !peer.polite) pc.restartIce();
      this.changed();
    };
    if (offerer) {
      // Transceivers for both kinds from the start, so a peer without a camera still receives video.
      peer.queue = this.ready.then(() => {
        if (this.peers.get(info.peer_id) !== peer) return;
        pc.addTransceiver(this.media.audio || 'audio', { direction: 'sendrecv', streams: [this.media.stream] });
        pc.addTransceiver(this.media.videoTrack || 'video', { direction: 'sendrecv', streams: [this.media.stream] });
      });
    }
    this.changed();
    return peer;
  }

  /**
   * Handles one negotiation payload from a peer.
   * @param {RemotePeer} peer
   * @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} payload
   * @private
   */
  async handle(peer, payload) {
    const { pc } = peer;
    if (pc.signalingState === 'closed') return;
    if (payload.description) {
      const description = payload.description;
      const collision = description.type === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        await this.ready;
        this.attachLocal(peer);
        await pc.setLocalDescription();
        this.signal.signal(peer.info.peer_id, { kind: 'media', description: pc.localDescription && pc.localDescription.toJSON() });
      }
    } else if (payload.candidate) {
      try {
        await pc.addIceCandidate(payload.candidate);
      } catch (err) {
        if (!peer.ignoreOffer) console.warn('ICE candidate refused', err);
      }
    }
  }

  /**
   * Sends the local tracks on the transceivers an offer created (answering side).
   * @param {RemotePeer} peer
   * @private
   */
  attachLocal(peer) {
    for (const t of peer.pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      const track = kind === 'audio' ? this.media.audio : this.media.videoTrack;
      if (t.direction === 'recvonly' || t.direction === 'inactive') t.direction = 'sendrecv';
      if (t.sender.track !== track) void t.sender.replaceTrack(track);
      t.sender.setStreams(this.media.stream);
    }
  }

  /** Puts the current tracks on every sender (mute keeps the track; camera and screen swap it). @private */
  mediaChanged() {
    if (this.sfu) this.sfu.mediaChanged();
    for (const peer of this.peers.values()) {
      if (peer.viaSfu) continue;
      for (const t of peer.pc.getTransceivers()) {
        const track = t.receiver.track.kind === 'audio' ? this.media.audio : this.media.videoTrack;
        if (t.sender.track !== track) void t.sender.replaceTrack(track).catch(() => {});
      }
    }
    this.signal.sendMediaState({ ...this.media.state });
    this.changed();
  }

  /**
   * @param {string} peerId
   * @private
   */
  remove(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    if (!peer.viaSfu) peer.pc.close();
    this.peers.delete(peerId);
    this.peerConnections.delete(peerId);
    this.changed();
  }

  /** Closes every connection and releases the camera and microphone. */
  closeAll() {
    for (const id of [...this.peers.keys()]) this.remove(id);
    if (this.sfu) this.sfu.close();
    if (this.encryption) this.encryption.close();
    this.sfu = null;
    this.encryption = null;
    this.unsupported = false;
    this.speakers = [];
    this.forwardedVideo = null;
    if (this.sfuRetryTimer) clearTimeout(this.sfuRetryTimer);
    this.sfuRetryTimer = null;
    this.sfuRetries = 0;
    this.mode = 'mesh';
    this.roomId = '';
    this.media.stop();
    this.changed();
  }
}

/**
 * The simulcast layer that fills a video shown this many device pixels high: `l` (a quarter of
 * a 720p camera: 180 rows) up to 240, `m` (360 rows) up to 480, `h` above.
 * @param {number} height
 * @returns {VideoLayer}
 */
export function layerForHeight(height) {
  if (height <= 240) return 'l';
  if (height <= 480) return 'm';
  return 'h';
}
