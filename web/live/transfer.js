// Direct messages and files between two browsers over WebRTC data channels: one peer connection
// per pair of peers, signaled through the server (payload kind `dc`), nothing stored on the way.
// Files go in 16 KiB chunks with backpressure; the SHA-256 of the whole file is compared at the end.

import { iceTransportPolicy } from '/live/rtc.js';
import { sha256Hex } from '/client/digest.js';

const CHUNK = 16 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/client/protocol.js').UserPresence} UserPresence
 * @typedef {'sending'|'receiving'|'verified'|'corrupted'|'cancelled'|'failed'|'queued'|'stored'|'downloading'|'expired'} FileState
 *   `queued`: sent through the server, encrypted, for the colleague's devices to fetch.
 */

/**
 * One line of a conversation.
 * @typedef {object} Entry
 * @property {string} id
 * @property {'in'|'out'} dir
 * @property {'message'|'file'} kind
 * @property {number} at Unix milliseconds.
 * @property {string} [text]
 * @property {{name: string, size: number, done: number, state: FileState, hash?: string, url?: string, type?: string, data?: string, ref?: import('/client/secure-files.js').FileRef}} [file]
 *   `data`: the bytes (base64url) of a small file that came or went through the server, kept in
 *   this device's history; `ref`: an uploaded file's id, key and digest (its bytes are fetched
 *   on demand and not kept).
 * @property {'server'} [via] It came or went through the server (encrypted), not peer to peer.
 * @property {string} [from] In a group conversation: who wrote it (user id).
 * @property {string} [unverified] Why this message could not be verified (shown as such).
 * @property {string} [reply_to] The id of the message this one answers.
 * @property {string[]} [mentions] The users a group message mentions.
 * @property {number} [edited] When its writer last changed it (Unix ms).
 * @property {boolean} [deleted] Its writer deleted it: its text or file is gone.
 */

/**
 * @typedef {object} Link
 * @property {string} peerId
 * @property {string} userId
 * @property {RTCPeerConnection} pc
 * @property {boolean} polite
 * @property {boolean} makingOffer
 * @property {RTCDataChannel|null} chat
 * @property {Promise<void>} queue
 * @property {((err?: Error) => void)[]} waiting Resolved when the chat channel opens (or fails).
 */

/** Raised when the colleague has no open connection. */
export class OfflineError extends Error {
  constructor() {
    super('This colleague is offline.');
    this.name = 'OfflineError';
  }
}

/** Hex SHA-256 of a file's bytes (client/digest.js). */
export const sha256 = sha256Hex;

/** Conversations with colleagues: messages and files. */
export class Transfers {
  /**
   * @param {SignalClient} signal
   * @param {(userId: string) => UserPresence|undefined} presenceOf
   * @param {(toUser: string, kind: 'message'|'file', size: number) => Promise<void>} report Metadata log.
   */
  constructor(signal, presenceOf, report) {
    this.signal = signal;
    this.presenceOf = presenceOf;
    this.report = report;
    /** @type {Map<string, Link>} by remote peer id */
    this.links = new Map();
    /** @type {Map<string, Entry[]>} by colleague's user id */
    this.conversations = new Map();
    /** @type {Map<string, RTCDataChannel>} file channels by entry id, for cancel */
    this.channels = new Map();
    /** @type {Set<(userId: string, entry: Entry) => void>} */
    this.listeners = new Set();
    signal.on('signal', (msg) => {
      if (!msg.payload || msg.payload.kind !== 'dc') return;
      const link = this.links.get(msg.from_peer) || this.link(msg.from_peer, msg.from_user, false);
      link.queue = link.queue.then(() => this.handle(link, msg.payload)).catch((err) => console.warn('data link', err));
    });
    signal.on('error', (msg) => {
      if (msg.code !== 'unknown_peer') return;
      for (const link of this.links.values()) if (!link.chat || link.chat.readyState !== 'open') this.fail(link, new OfflineError());
    });
  }

  /**
   * Calls `fn(userId, entry)` when a conversation gains or updates an entry.
   * @param {(userId: string, entry: Entry) => void} fn
   * @returns {() => void}
   */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Tells the listeners that a line changed (also the mailbox's downloads of uploaded files).
   * @param {string} userId
   * @param {Entry} entry
   */
  changed(userId, entry) {
    for (const fn of [...this.listeners]) fn(userId, entry);
  }

  /**
   * @param {string} userId
   * @returns {Entry[]}
   */
  conversation(userId) {
    let list = this.conversations.get(userId);
    if (!list) this.conversations.set(userId, (list = []));
    return list;
  }

  /**
   * Adds a line to a conversation and tells the listeners.
   * @param {string} userId
   * @param {Entry} entry
   */
  push(userId, entry) {
    this.conversation(userId).push(entry);
    this.changed(userId, entry);
  }

  /**
   * Adds lines to a conversation that it does not have yet (by id), in time order, without
   * telling the listeners (kept history, drawn by whoever asked for it).
   * @param {string} userId
   * @param {Entry[]} entries
   */
  merge(userId, entries) {
    const list = this.conversation(userId);
    const ids = new Set(list.map((e) => e.id));
    const added = entries.filter((e) => !ids.has(e.id));
    if (!added.length) return;
    list.push(...added);
    list.sort((a, b) => a.at - b.at);
  }

  /**
   * Sends a direct message.
   * @param {string} userId
   * @param {string} text
   * @param {string} [replyTo] The message it answers.
   * @returns {Promise<void>}
   * @throws {OfflineError}
   */
  async sendMessage(userId, text, replyTo) {
    const link = await this.open(userId);
    /** @type {Entry} */
    const entry = { id: crypto.randomUUID(), dir: 'out', kind: 'message', at: Date.now(), text };
    if (replyTo) entry.reply_to = replyTo;
    /** @type {RTCDataChannel} */ (link.chat).send(JSON.stringify({ t: 'msg', id: entry.id, text, at: entry.at, ...(replyTo ? { reply_to: replyTo } : {}) }));
    this.push(userId, entry);
    await this.report(userId, 'message', new TextEncoder().encode(text).length).catch(() => {});
  }

  /**
   * Sends the colleague an edit (`text`) or a deletion (no text) of one of the user's messages,
   * over the data channel, and applies it here.
   * @param {string} userId
   * @param {string} target The message's id.
   * @param {string} [text]
   * @returns {Promise<void>}
   * @throws {OfflineError}
   */
  async sendChange(userId, target, text) {
    const link = await this.open(userId);
    /** @type {RTCDataChannel} */ (link.chat).send(JSON.stringify(text === undefined ? { t: 'del', target } : { t: 'edit', target, text }));
    this.applyChange(userId, target, 'out', Date.now(), text);
  }

  /**
   * Applies an edit (`text`) or a deletion (no text) to a line of a conversation, when `by`
   * wrote it (`out`: the user; `in`: the colleague, or in a group the member `from`).
   * @param {string} key The conversation.
   * @param {string} target The line's id.
   * @param {'in'|'out'} dir Whether the user made the change.
   * @param {number} at
   * @param {string} [text]
   * @param {string} [from] In a group: who made it.
   * @returns {Entry|null} The changed line, or `null` when there is none the changer wrote.
   */
  applyChange(key, target, dir, at, text, from) {
    const entry = this.conversation(key).find((e) => e.id === target);
    if (!entry || entry.dir !== dir || entry.deleted || entry.unverified || (dir === 'in' && (entry.from || undefined) !== (from || undefined))) return null;
    if (text === undefined) {
      entry.deleted = true;
      delete entry.text;
      if (entry.file) {
        if (entry.file.url) URL.revokeObjectURL(entry.file.url);
        entry.file = { name: '', size: 0, done: 0, state: 'cancelled' };
      }
    } else if (entry.kind === 'message') {
      entry.text = text.slice(0, 10000);
    } else {
      return null;
    }
    entry.edited = at;
    this.changed(key, entry);
    return entry;
  }

  /**
   * Sends a file on its own channel; the entry follows its progress and result.
   * @param {string} userId
   * @param {File} file
   * @returns {Promise<Entry>}
   * @throws {OfflineError}
   */
  async sendFile(userId, file) {
    const link = await this.open(userId);
    /** @type {Entry} */
    const entry = { id: crypto.randomUUID(), dir: 'out', kind: 'file', at: Date.now(), file: { name: file.name, size: file.size, done: 0, state: 'sending' } };
    const info = /** @type {NonNullable<Entry['file']>} */ (entry.file);
    this.push(userId, entry);
    const buffer = await file.arrayBuffer();
    info.hash = await sha256(buffer);
    // Cancelled while the file was being read: nothing goes out.
    if (info.state !== 'sending') return entry;
    const channel = link.pc.createDataChannel('file', { ordered: true });
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    this.channels.set(entry.id, channel);
    const finish = (/** @type {FileState} */ state) => {
      if (info.state !== 'sending') return;
      info.state = state;
      this.channels.delete(entry.id);
      this.changed(userId, entry);
      if (state === 'verified') void this.report(userId, 'file', file.size).catch(() => {});
      if (channel.readyState === 'open') setTimeout(() => channel.close(), 200);
    };
    channel.onmessage = (event) => {
      const msg = JSON.parse(String(event.data));
      if (msg.t === 'result') finish(msg.ok ? 'verified' : 'corrupted');
      else if (msg.t === 'cancel') finish('cancelled');
    };
    channel.onclose = () => finish(info.done === file.size ? 'failed' : 'cancelled');
    channel.onopen = async () => {
      // Cancelled before the channel opened: close it before the receiver hears of the file.
      if (info.state !== 'sending') return void channel.close();
      channel.send(JSON.stringify({ t: 'file', id: entry.id, name: file.name, size: file.size, type: file.type, at: entry.at }));
      for (let offset = 0; offset < buffer.byteLength; offset += CHUNK) {
        if (info.state !== 'sending' || channel.readyState !== 'open') return;
        if (channel.bufferedAmount > HIGH_WATER) {
          await new Promise((resolve) => channel.addEventListener('bufferedamountlow', resolve, { once: true }));
          if (info.state !== 'sending' || channel.readyState !== 'open') return;
        }
        channel.send(buffer.slice(offset, offset + CHUNK));
        info.done = Math.min(file.size, offset + CHUNK);
        if (offset % (CHUNK * 16) === 0) this.changed(userId, entry);
      }
      channel.send(JSON.stringify({ t: 'end', sha256: info.hash }));
      this.changed(userId, entry);
    };
    return entry;
  }

  /**
   * Cancels a file being sent or received.
   * @param {string} userId
   * @param {string} entryId
   */
  cancel(userId, entryId) {
    const entry = this.conversation(userId).find((e) => e.id === entryId);
    const channel = this.channels.get(entryId);
    if (!entry || !entry.file || (entry.file.state !== 'sending' && entry.file.state !== 'receiving')) return;
    entry.file.state = 'cancelled';
    this.channels.delete(entryId);
    if (channel && channel.readyState === 'open') {
      channel.send(JSON.stringify({ t: 'cancel' }));
      setTimeout(() => channel.close(), 100);
    }
    this.changed(userId, entry);
  }

  /**
   * A link with an open chat channel to one of the colleague's peers.
   * @param {string} userId
   * @returns {Promise<Link>}
   * @private
   */
  async open(userId) {
    for (const link of this.links.values()) {
      if (link.userId === userId && link.chat && link.chat.readyState === 'open') return link;
    }
    const presence = this.presenceOf(userId);
    if (!presence || presence.status === 'offline' || presence.peers.length === 0) throw new OfflineError();
    const peerId = presence.peers[0];
    let link = this.links.get(peerId);
    if (!link) {
      link = this.link(peerId, userId, true);
    }
    if (link.chat && link.chat.readyState === 'open') return link;
    const pending = link;
    await new Promise((resolve, reject) => pending.waiting.push((err) => (err ? reject(err) : resolve(undefined))));
    return pending;
  }

  /**
   * @param {string} peerId
   * @param {string} userId
   * @param {boolean} initiator
   * @returns {Link}
   * @private
   */
  link(peerId, userId, initiator) {
    const pc = new RTCPeerConnection({ iceServers: this.signal.iceServers, iceTransportPolicy: iceTransportPolicy() });
    /** @type {Link} */
    const link = { peerId, userId, pc, polite: this.signal.peerId < peerId, makingOffer: false, chat: null, queue: Promise.resolve(), waiting: [] };
    this.links.set(peerId, link);
    const send = (/** @type {object} */ payload) => this.signal.signal(peerId, { kind: 'dc', ...payload });
    pc.onicecandidate = ({ candidate }) => { if (candidate) send({ candidate: candidate.toJSON() }); };
    pc.onnegotiationneeded = async () => {
      try {
        link.makingOffer = true;
        await pc.setLocalDescription();
        send({ description: pc.localDescription && pc.localDescription.toJSON() });
      } finally {
        link.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.fail(link, new Error('The connection to your colleague failed.'));
    };
    pc.ondatachannel = ({ channel }) => {
      if (channel.label === 'chat') this.useChat(link, channel);
      else if (channel.label === 'file') this.receiveFile(link, channel);
    };
    if (initiator) this.useChat(link, pc.createDataChannel('chat', { ordered: true }));
    return link;
  }

  /**
   * @param {Link} link
   * @param {Error} err
   * @private
   */
  fail(link, err) {
    for (const settle of link.waiting.splice(0)) settle(err);
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    if (link.pc.connectionState !== 'closed') link.pc.close();
  }

  /**
   * @param {Link} link
   * @param {RTCDataChannel} channel
   * @private
   */
  useChat(link, channel) {
    const opened = () => {
      link.chat = channel;
      for (const settle of link.waiting.splice(0)) settle();
    };
    if (channel.readyState === 'open') opened();
    else channel.addEventListener('open', opened);
    channel.addEventListener('message', (event) => {
      let msg;
      try {
        msg = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (msg.t === 'msg' && typeof msg.text === 'string') {
        /** @type {Entry} */
        const entry = { id: String(msg.id), dir: 'in', kind: 'message', at: Date.now(), text: msg.text.slice(0, 10000) };
        if (typeof msg.reply_to === 'string' && msg.reply_to.length <= 100) entry.reply_to = msg.reply_to;
        this.push(link.userId, entry);
      } else if ((msg.t === 'edit' && typeof msg.text === 'string' && msg.text) || msg.t === 'del') {
        this.applyChange(link.userId, String(msg.target), 'in', Date.now(), msg.t === 'edit' ? msg.text : undefined);
      }
    });
  }

  /**
   * @param {Link} link
   * @param {RTCDataChannel} channel
   * @private
   */
  receiveFile(link, channel) {
    channel.binaryType = 'arraybuffer';
    /** @type {ArrayBuffer[]} */
    const chunks = [];
    /** @type {Entry|null} */
    let entry = null;
    let last = 0;
    channel.onmessage = async (event) => {
      if (typeof event.data !== 'string') {
        if (!entry || !entry.file || entry.file.state !== 'receiving') return;
        chunks.push(event.data);
        entry.file.done += event.data.byteLength;
        if (entry.file.done - last >= CHUNK * 16) {
          last = entry.file.done;
          this.changed(link.userId, entry);
        }
        return;
      }
      const msg = JSON.parse(event.data);
      if (msg.t === 'file' && !entry) {
        entry = { id: String(msg.id), dir: 'in', kind: 'file', at: Date.now(), file: { name: String(msg.name).slice(0, 255), size: Number(msg.size), done: 0, state: 'receiving' } };
        this.channels.set(entry.id, channel);
        this.push(link.userId, entry);
      } else if (msg.t === 'end' && entry && entry.file && entry.file.state === 'receiving') {
        const blob = new Blob(chunks);
        const hash = await sha256(await blob.arrayBuffer());
        const ok = hash === msg.sha256 && blob.size === entry.file.size;
        entry.file.hash = hash;
        entry.file.state = ok ? 'verified' : 'corrupted';
        if (ok) entry.file.url = URL.createObjectURL(blob);
        this.channels.delete(entry.id);
        channel.send(JSON.stringify({ t: 'result', ok }));
        this.changed(link.userId, entry);
      } else if (msg.t === 'cancel' && entry && entry.file && entry.file.state === 'receiving') {
        entry.file.state = 'cancelled';
        this.channels.delete(entry.id);
        this.changed(link.userId, entry);
      }
    };
    channel.onclose = () => {
      if (entry && entry.file && entry.file.state === 'receiving') {
        entry.file.state = 'cancelled';
        this.changed(link.userId, entry);
      }
    };
  }

  /**
   * @param {Link} link
   * @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} payload
   * @private
   */
  async handle(link, payload) {
    const { pc } = link;
    if (pc.signalingState === 'closed') return;
    if (payload.description) {
      const collision = payload.description.type === 'offer' && (link.makingOffer || pc.signalingState !== 'stable');
      if (!link.polite && collision) return;
      await pc.setRemoteDescription(payload.description);
      if (payload.description.type === 'offer') {
        await pc.setLocalDescription();
        this.signal.signal(link.peerId, { kind: 'dc', description: pc.localDescription && pc.localDescription.toJSON() });
      }
    } else if (payload.candidate) {
      await pc.addIceCandidate(payload.candidate).catch(() => {});
    }
  }
}
