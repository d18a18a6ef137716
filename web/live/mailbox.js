// Messages that wait (docs/messaging.md): this browser's device, its inbox, and the way a direct
// message or a small file goes out — peer to peer while the colleague is online (as before),
// otherwise encrypted in this browser for each of the colleague's devices (and the user's own
// other devices) and queued on the server until they fetch it. The inbox is fetched after each
// `welcome` (what waited while this page was away) and on each `inbox` frame (something new).
// Every message shown is kept in this device's history (client/history.js). Replies, edits
// and deletions travel the same ways; the mailbox also counts what the user has not read yet
// (per conversation, and the mentions of them), from this device's history and what arrives.

import * as sm from '/client/secure-messages.js';
import * as history from '/client/history.js';
import * as safety from '/client/safety.js';
import * as groups from '/client/groups.js';
import * as api from '/client/api.js';
import * as files from '/client/secure-files.js';
import * as transfer from '/client/history-transfer.js';
import { OfflineError, sha256 } from '/live/transfer.js';

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/live/transfer.js').Transfers} Transfers
 * @typedef {import('/live/transfer.js').Entry} Entry
 * @typedef {import('/client/history.js').Kept} Kept
 * @typedef {import('/client/safety.js').Trust} Trust
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 */

/**
 * An edit (with `text`) or a deletion (without) of an earlier line, as it arrived.
 * @typedef {object} Change
 * @property {string} peer The conversation.
 * @property {string} target The line it changes.
 * @property {'in'|'out'} dir Whether the user made it (on another device).
 * @property {number} at
 * @property {string} [text]
 * @property {string} [from] In a group: who made it.
 */

/**
 * A history another of the user's devices sent, waiting for the user to compare the device code
 * and import it.
 * @typedef {object} HistoryOffer
 * @property {string} message_id
 * @property {string} from_device
 * @property {files.FileRef} ref
 * @property {number} count Lines in it.
 * @property {number} size Bytes.
 * @property {number} at When it was sent.
 */

/** The largest file that travels inside a message; larger ones are uploaded encrypted. */
export const MAX_INLINE_FILE = sm.MAX_INLINE_FILE;

/** The read mark of every conversation at once (the device's first count), among the marks. */
const ALL = '*';

/**
 * The id of the direct conversation of two users: the same on both sides.
 * @param {string} a
 * @param {string} b
 * @returns {string}
 */
export function directConversation(a, b) {
  return 'dm:' + [a, b].sort().join(':');
}

/**
 * The key of a group conversation's lines (where a direct conversation uses the colleague's id).
 * @param {string} conversationId
 * @returns {string}
 */
export function groupKey(conversationId) {
  return 'group:' + conversationId;
}

export class Mailbox {
  /**
   * @param {{id: string, role: string}} me A guest has no devices: nothing is fetched for them.
   * @param {SignalClient} signal
   * @param {Transfers} transfers
   * @param {(userId: string) => boolean} online Whether the colleague has a connection now.
   * @param {(toUser: string, kind: 'message'|'file', size: number) => Promise<void>} report Metadata log.
   */
  constructor(me, signal, transfers, online, report) {
    this.me = me;
    this.transfers = transfers;
    this.online = online;
    this.report = report;
    /** @type {Promise<string>|null} This browser's device id, registered on first use. */
    this.registering = null;
    /** @type {Promise<void>|null} The fetch running now. */
    this.fetching = null;
    /** Another fetch was asked for while one ran. */
    this.again = false;
    /** @type {Set<string>} Conversations whose kept history is merged in. */
    this.loaded = new Set();
    /** @type {string} Why the inbox could not be fetched last time ('' when it could). */
    this.problem = '';
    /** @type {Map<string, api.Conversation>} The user's group conversations, by id. */
    this.groups = new Map();
    /** @type {Set<() => void>} */
    this.groupListeners = new Set();
    /** @type {Map<string, {count: number, mentions: number}>} Unread lines per conversation. */
    this.unread = new Map();
    /** @type {Record<string, number>} Per conversation, when the user last read it. */
    this.readMarks = {};
    /** @type {Set<string>} Lines counted (or seen) already. */
    this.counted = new Set();
    /** @type {string|null} The conversation the user is looking at now (the chat panel shows
     * it and the page is visible: the panel says so), if any. */
    this.viewing = null;
    /** @type {Set<() => void>} */
    this.unreadListeners = new Set();
    /** @type {HistoryOffer[]} Histories from the user's other devices, not imported yet. */
    this.offers = [];
    /** @type {Set<() => void>} */
    this.offerListeners = new Set();
    if (me.role === 'guest') return;
    void this.countUnread();
    signal.on('welcome', () => {
      void this.fetch();
      void this.refreshGroups();
    });
    signal.on('inbox', () => this.fetch());
    signal.on('conversations', () => this.refreshGroups());
    // Messages that went or came peer to peer are kept too (the ones through the server are
    // kept before they are shown).
    // Changed lines are kept again, wherever they came from.
    transfers.onChange((userId, entry) => {
      if ((entry.kind === 'message' && !entry.via && !entry.unverified) || entry.edited !== undefined) void history.keep([this.kept(userId, entry)]).catch((err) => console.warn('history', err));
      this.arrived(userId, entry);
    });
  }

  /**
   * This browser's device id, registered on the first call.
   * @returns {Promise<string>}
   */
  device() {
    if (!this.registering) {
      this.registering = sm.ensureDevice(this.me, deviceName()).catch((err) => {
        this.registering = null;
        throw err;
      });
    }
    return this.registering;
  }

  /**
   * Fetches the inbox now; asked again while it runs, it runs once more afterwards.
   * @returns {Promise<void>}
   */
  fetch() {
    if (this.fetching) {
      this.again = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      do {
        this.again = false;
        try {
          await this.fetchOnce();
          this.problem = '';
        } catch (err) {
          this.problem = err instanceof Error ? err.message : String(err);
          console.warn('inbox', err);
        }
      } while (this.again);
    })().finally(() => { this.fetching = null; });
    return this.fetching;
  }

  /** @private */
  async fetchOnce() {
    const deviceId = await this.device();
    /** @type {Array<{peer: string, entry: Entry}|Change>} */
    const arrived = [];
    await sm.fetchInbox(this.me, deviceId, async (page) => {
      /** @type {Array<{peer: string, entry: Entry}>} */
      const lines = [];
      for (const result of page) {
        const line = await this.lineOf(result);
        if (line && 'entry' in line) lines.push(line);
        if (line) arrived.push(line);
      }
      // Changes are kept once applied (below); they name lines kept before them.
      await history.keep(lines.map(({ peer, entry }) => this.kept(peer, entry)));
    });
    for (const item of arrived) {
      if (!('entry' in item)) {
        await this.applyChange(item);
        continue;
      }
      if (this.transfers.conversation(item.peer).some((e) => e.id === item.entry.id)) continue;
      this.transfers.push(item.peer, item.entry);
    }
  }

  /**
   * Applies an edit or a deletion to the line it names (loading the conversation's kept history
   * first, where the line may be), and keeps the changed line.
   * @param {Change} change
   * @returns {Promise<void>}
   * @private
   */
  async applyChange(change) {
    await this.loadHistory(change.peer);
    const changed = this.transfers.applyChange(change.peer, change.target, change.dir, change.at, change.text, change.from);
    if (changed) await history.keep([this.kept(change.peer, changed)]);
  }

  /**
   * The conversation line of an inbox result: in the conversation with its sender, or — for a
   * copy of what the user sent from another device — with the colleague it went to.
   * @param {sm.Received|sm.Unverified} result
   * @returns {Promise<{peer: string, entry: Entry}|Change|null>}
   * @private
   */
  async lineOf(result) {
    if (!result.verified) {
      const peer = result.claimed_from_user && result.claimed_from_user !== this.me.id ? result.claimed_from_user : '';
      if (!peer) {
        console.warn('inbox: a message that could not be verified, from nobody it names:', result.reason);
        return null;
      }
      return { peer, entry: { id: 'unverified:' + result.id, dir: 'in', kind: 'message', at: result.queued_at, via: 'server', unverified: result.reason } };
    }
    // A group's sender key is kept by secure-messages.js, not shown.
    if (result.content.kind === 'sender_key') return null;
    if (result.content.kind === 'history') {
      // Only the user's own devices send a history; it waits for the user (device code).
      if (result.from_user === this.me.id) {
        const c = result.content;
        await this.setOffers([...this.offers.filter((o) => o.message_id !== result.message_id),
          { message_id: result.message_id, from_device: result.from_device, ref: { id: c.id, key: c.key, sha256: c.sha256 }, count: c.count, size: c.size, at: result.sent_at }]);
      }
      return null;
    }
    const mine = result.from_user === this.me.id;
    const group = result.epoch !== undefined;
    const peer = group ? groupKey(result.conversation_id) : mine ? otherOf(result.conversation_id, this.me.id) : result.from_user;
    if (!peer) return null;
    const base = { id: result.message_id, dir: /** @type {'in'|'out'} */ (mine ? 'out' : 'in'), at: result.sent_at, via: /** @type {'server'} */ ('server'),
      ...(group ? { from: result.from_user } : {}) };
    const content = result.content;
    if (content.kind === 'edit' || content.kind === 'delete') {
      return { peer, target: content.target, dir: base.dir, at: result.sent_at, ...(content.kind === 'edit' ? { text: content.text } : {}), ...(group && !mine ? { from: result.from_user } : {}) };
    }
    if (content.kind === 'text') {
      /** @type {Entry} */
      const entry = { ...base, kind: 'message', text: content.text };
      if (content.reply_to) entry.reply_to = content.reply_to;
      if (content.mentions) entry.mentions = content.mentions;
      return { peer, entry };
    }
    if (content.kind === 'file_ref') {
      const ref = { id: content.id, key: content.key, sha256: content.sha256 };
      return { peer, entry: { ...base, kind: 'file', file: storedFile(content.name, content.type, content.size, ref) } };
    }
    if (content.kind !== 'file') return null;
    const bytes = /** @type {Uint8Array} */ (sm.unb64u(content.data));
    return { peer, entry: { ...base, kind: 'file', file: fileLine(content.name, content.type, bytes, content.data, await sha256(bytes.slice().buffer), mine) } };
  }

  /**
   * A line this device sent through the server: kept in the history, then shown.
   * @param {string} key The colleague's id, or a group's key.
   * @param {Entry} entry
   * @returns {Promise<void>}
   * @private
   */
  async add(key, entry) {
    await history.keep([this.kept(key, entry)]);
    this.transfers.push(key, entry);
  }

  /**
   * A line as it is kept.
   * @param {string} peer
   * @param {Entry} entry
   * @returns {Kept}
   * @private
   */
  kept(peer, entry) {
    /** @type {Kept} */
    const line = { id: entry.id, owner: this.me.id, peer, dir: entry.dir, kind: entry.kind, at: entry.at };
    if (entry.text !== undefined) line.text = entry.text;
    if (entry.file && (entry.file.data !== undefined || entry.file.ref)) {
      line.file = { name: entry.file.name, type: entry.file.type || '', size: entry.file.size };
      if (entry.file.data !== undefined) line.file.data = entry.file.data;
      if (entry.file.ref) line.file.ref = entry.file.ref;
    }
    if (entry.via) line.via = entry.via;
    if (entry.unverified) line.unverified = entry.unverified;
    if (entry.from) line.from = entry.from;
    if (entry.reply_to) line.reply_to = entry.reply_to;
    if (entry.mentions) line.mentions = entry.mentions;
    if (entry.edited !== undefined) line.edited = entry.edited;
    if (entry.deleted) line.deleted = true;
    return line;
  }

  /**
   * Merges this device's kept history of a conversation into it (once per page load).
   * @param {string} peer
   * @returns {Promise<boolean>} Whether lines were added.
   */
  async loadHistory(peer) {
    if (this.loaded.has(peer)) return false;
    this.loaded.add(peer);
    const kept = await history.conversation(this.me.id, peer);
    const before = this.transfers.conversation(peer).length;
    this.transfers.merge(peer, await Promise.all(kept.map(entryOf)));
    return this.transfers.conversation(peer).length !== before;
  }

  /**
   * Asks the server for the user's group conversations again (after `welcome`, and when told).
   * @returns {Promise<void>}
   */
  async refreshGroups() {
    try {
      this.groups = new Map((await api.conversations()).map((c) => [c.id, c]));
    } catch (err) {
      console.warn('conversations', err);
      return;
    }
    for (const fn of [...this.groupListeners]) fn();
  }

  /**
   * The chat of a meeting room, joined (or made) now; the list of conversations follows.
   * @param {string} roomId
   * @returns {Promise<api.Conversation>}
   */
  async roomConversation(roomId) {
    const conversation = await api.roomConversation(roomId);
    this.groups.set(conversation.id, conversation);
    for (const fn of [...this.groupListeners]) fn();
    return conversation;
  }

  /**
   * Calls `fn` whenever the list of group conversations changed.
   * @param {() => void} fn
   * @returns {() => void}
   */
  onGroups(fn) {
    this.groupListeners.add(fn);
    return () => this.groupListeners.delete(fn);
  }

  /**
   * Sends a text to a group conversation, with this device's key of its current epoch.
   * @param {string} conversationId
   * @param {string} text
   * @param {{replyTo?: string, mentions?: string[]}} [options]
   * @returns {Promise<void>}
   */
  async sendGroupText(conversationId, text, options = {}) {
    const deviceId = await this.device();
    const at = Date.now();
    /** @type {sm.Outgoing} */
    const outgoing = { kind: 'text', text };
    if (options.replyTo) outgoing.reply_to = options.replyTo;
    if (options.mentions && options.mentions.length) outgoing.mentions = options.mentions;
    const sent = await groups.sendToGroup(this.me, deviceId, conversationId, outgoing);
    /** @type {Entry} */
    const entry = { id: sent.message_id, dir: 'out', kind: 'message', at, text, via: 'server', from: this.me.id };
    if (outgoing.reply_to) entry.reply_to = outgoing.reply_to;
    if (outgoing.mentions) entry.mentions = outgoing.mentions;
    await this.add(groupKey(conversationId), entry);
  }

  /**
   * Changes one of the user's lines for everyone in the conversation: a new text (an edit) or
   * none (a deletion). Peer to peer while the colleague is online, otherwise through the server
   * (always, in a group), like a message.
   * @param {string} key A colleague's id, or a group's key.
   * @param {string} target The line's id.
   * @param {string} [text]
   * @returns {Promise<void>}
   */
  async change(key, target, text) {
    /** @type {sm.Outgoing} */
    const outgoing = text === undefined ? { kind: 'delete', target } : { kind: 'edit', target, text };
    const line = this.transfers.conversation(key).find((e) => e.id === target);
    const upload = text === undefined && line && line.dir === 'out' && line.file && line.file.ref ? line.file.ref.id : null;
    if (key.startsWith('group:')) {
      await groups.sendToGroup(this.me, await this.device(), key.slice('group:'.length), outgoing);
    } else {
      if (this.online(key)) {
        try {
          return await this.transfers.sendChange(key, target, text);
        } catch (err) {
          if (!(err instanceof OfflineError)) throw err;
        }
      }
      await this.sendThroughServer(key, outgoing);
    }
    const changed = this.transfers.applyChange(key, target, 'out', Date.now(), text);
    if (changed) await history.keep([this.kept(key, changed)]);
    // The upload goes too (devices that fetch later get the deletion, not the file).
    if (upload) await api.deleteMessageFile(upload).catch((err) => console.warn('file', err));
  }

  /**
   * Counts the unread lines of every conversation in this device's history (once, at start).
   * @returns {Promise<void>}
   * @private
   */
  async countUnread() {
    try {
      const offers = await sm.readState(`offers:${this.me.id}`);
      if (offers && Array.isArray(offers.offers) && !this.offers.length) {
        this.offers = offers.offers;
        this.offersChanged();
      }
      const read = await sm.readState(`read:${this.me.id}`);
      if (read && read.marks && typeof read.marks === 'object') {
        this.readMarks = { ...read.marks, ...this.readMarks };
      } else {
        // The first time this device counts: what it kept before counts as read (its history
        // would otherwise all show as unread at once).
        this.readMarks[ALL] = Date.now();
        await sm.writeState(`read:${this.me.id}`, { marks: this.readMarks });
      }
      for (const line of await history.lines(this.me.id)) this.count(line.peer, line);
    } catch (err) {
      console.warn('unread', err);
    }
    this.unreadChanged();
  }

  /**
   * Counts a line as unread when it is new, from someone else, and after the conversation's
   * read mark.
   * @param {string} key
   * @param {Kept|Entry} line
   * @returns {boolean} Whether it was counted.
   * @private
   */
  count(key, line) {
    if (this.counted.has(line.id)) return false;
    this.counted.add(line.id);
    if (line.dir !== 'in' || line.deleted || line.unverified || line.at <= Math.max(this.readMarks[key] || 0, this.readMarks[ALL] || 0)) return false;
    const unread = this.unread.get(key) || { count: 0, mentions: 0 };
    unread.count += 1;
    if (line.mentions && line.mentions.includes(this.me.id)) unread.mentions += 1;
    this.unread.set(key, unread);
    return true;
  }

  /**
   * A line arrived or changed: counted as unread unless the user is looking at its conversation.
   * @param {string} key
   * @param {Entry} entry
   * @private
   */
  arrived(key, entry) {
    if (entry.dir !== 'in' || this.counted.has(entry.id)) return;
    if (this.viewing === key) {
      this.counted.add(entry.id);
      void this.markRead(key);
      return;
    }
    if (this.count(key, entry)) this.unreadChanged();
  }

  /**
   * Marks a conversation read up to now (the chat panel shows it).
   * @param {string} key
   * @returns {Promise<void>}
   */
  async markRead(key) {
    const last = Math.max(Date.now(), ...this.transfers.conversation(key).map((e) => e.at));
    const had = this.unread.delete(key);
    if ((this.readMarks[key] || 0) >= last && !had) return;
    this.readMarks[key] = last;
    if (had) this.unreadChanged();
    await sm.writeState(`read:${this.me.id}`, { marks: this.readMarks }).catch((err) => console.warn('unread', err));
  }

  /**
   * Unread lines in every conversation, and how many mention the user.
   * @returns {{count: number, mentions: number}}
   */
  unreadTotal() {
    let count = 0;
    let mentions = 0;
    for (const u of this.unread.values()) {
      count += u.count;
      mentions += u.mentions;
    }
    return { count, mentions };
  }

  /**
   * Calls `fn` whenever an unread count changed.
   * @param {() => void} fn
   * @returns {() => void}
   */
  onUnread(fn) {
    this.unreadListeners.add(fn);
    return () => this.unreadListeners.delete(fn);
  }

  /** @private */
  unreadChanged() {
    for (const fn of [...this.unreadListeners]) fn();
  }

  /**
   * Sends this device's history to another device of the user, whose device code the user
   * compared on both screens.
   * @param {CheckedDevice} target
   * @returns {Promise<number>} How many lines went.
   */
  async sendHistory(target) {
    return transfer.sendHistory(this.me, await this.device(), target);
  }

  /**
   * Imports a history offered by another device of the user (the user compared the code), and
   * drops the offer.
   * @param {string} messageId
   * @returns {Promise<number>} How many lines were added.
   */
  async importOffer(messageId) {
    const offer = this.offers.find((o) => o.message_id === messageId);
    if (!offer) return 0;
    const added = await transfer.importHistory(this.me, offer.ref);
    // Conversations read their kept history again when next opened. What another of the
    // user's devices had is not new: it counts as read.
    this.loaded.clear();
    for (const line of added) {
      this.counted.add(line.id);
      this.readMarks[line.peer] = Math.max(this.readMarks[line.peer] || 0, line.at);
    }
    await sm.writeState(`read:${this.me.id}`, { marks: this.readMarks }).catch((err) => console.warn('unread', err));
    await this.setOffers(this.offers.filter((o) => o !== offer));
    return added.length;
  }

  /**
   * Drops a history offer without importing it.
   * @param {string} messageId
   * @returns {Promise<void>}
   */
  discardOffer(messageId) {
    return this.setOffers(this.offers.filter((o) => o.message_id !== messageId));
  }

  /**
   * Calls `fn` whenever the list of history offers changed.
   * @param {() => void} fn
   * @returns {() => void}
   */
  onOffers(fn) {
    this.offerListeners.add(fn);
    return () => this.offerListeners.delete(fn);
  }

  /**
   * @param {HistoryOffer[]} offers
   * @returns {Promise<void>}
   * @private
   */
  async setOffers(offers) {
    this.offers = offers;
    await sm.writeState(`offers:${this.me.id}`, { offers }).catch((err) => console.warn('history offers', err));
    this.offersChanged();
  }

  /** @private */
  offersChanged() {
    for (const fn of [...this.offerListeners]) fn();
  }

  /**
   * The colleague's devices now, and whether they changed since the user last accepted them.
   * @param {string} peer
   * @returns {Promise<Trust>}
   */
  trust(peer) {
    return safety.trustOf(this.me.id, peer);
  }

  /**
   * The safety code of the user and a colleague, with the devices it covers.
   * @param {string} peer
   * @returns {Promise<{code: string, trust: Trust, mine: CheckedDevice[]}>}
   */
  async safetyCode(peer) {
    const [trust, mine] = await Promise.all([this.trust(peer), sm.checkedDevices(this.me.id)]);
    const code = await safety.safetyCode(
      { userId: this.me.id, signPublics: mine.map((d) => d.signPublic) },
      { userId: peer, signPublics: trust.devices.map((d) => d.signPublic) });
    return { code, trust, mine };
  }

  /**
   * Accepts the colleague's current devices, marked verified (the code was compared) or not.
   * @param {string} peer
   * @param {string[]} keys As `trust` gave them.
   * @param {boolean} verified
   * @returns {Promise<void>}
   */
  accept(peer, keys, verified) {
    return safety.accept(this.me.id, peer, keys, verified);
  }

  /**
   * Sends a text: peer to peer when the colleague is online, otherwise through the server.
   * @param {string} userId
   * @param {string} text
   * @param {string} [replyTo] The message it answers.
   * @returns {Promise<void>}
   * @throws {sm.NoDeviceError} When the colleague is offline and has no device to encrypt to.
   */
  async sendText(userId, text, replyTo) {
    if (this.online(userId)) {
      try {
        return await this.transfers.sendMessage(userId, text, replyTo);
      } catch (err) {
        if (!(err instanceof OfflineError)) throw err;
      }
    }
    const sent = await this.sendThroughServer(userId, replyTo ? { kind: 'text', text, reply_to: replyTo } : { kind: 'text', text });
    /** @type {Entry} */
    const entry = { id: sent.message_id, dir: 'out', kind: 'message', at: sent.at, text, via: 'server' };
    if (replyTo) entry.reply_to = replyTo;
    await this.add(userId, entry);
    await this.report(userId, 'message', new TextEncoder().encode(text).length).catch(() => {});
  }

  /**
   * Sends a file: peer to peer when the colleague is online, otherwise through the server —
   * inside the message when small, else uploaded encrypted (up to the organisation's limit).
   * @param {string} userId
   * @param {File} file
   * @returns {Promise<void>}
   * @throws {sm.NoDeviceError|api.ApiError} `file_too_large` above the organisation's limit.
   */
  async sendFile(userId, file) {
    if (this.online(userId)) {
      try {
        await this.transfers.sendFile(userId, file);
        return;
      } catch (err) {
        if (!(err instanceof OfflineError)) throw err;
      }
    }
    const { outgoing, line } = await this.outgoingFile(file);
    let sent;
    try {
      sent = await this.sendThroughServer(userId, outgoing);
    } catch (err) {
      if (outgoing.kind === 'file_ref') void api.deleteMessageFile(outgoing.id).catch(() => {});
      throw err;
    }
    await this.add(userId, { id: sent.message_id, dir: 'out', kind: 'file', at: sent.at, via: 'server', file: line });
    await this.report(userId, 'file', file.size).catch(() => {});
  }

  /**
   * Sends a file to a group conversation (always through the server).
   * @param {string} conversationId
   * @param {File} file
   * @returns {Promise<void>}
   */
  async sendGroupFile(conversationId, file) {
    const { outgoing, line } = await this.outgoingFile(file);
    const at = Date.now();
    let sent;
    try {
      sent = await groups.sendToGroup(this.me, await this.device(), conversationId, outgoing);
    } catch (err) {
      if (outgoing.kind === 'file_ref') void api.deleteMessageFile(outgoing.id).catch(() => {});
      throw err;
    }
    await this.add(groupKey(conversationId), { id: sent.message_id, dir: 'out', kind: 'file', at, via: 'server', from: this.me.id, file: line });
  }

  /**
   * What goes out for a file, and its line here: inside the message when it is at most
   * MAX_INLINE_FILE bytes, otherwise encrypted, uploaded and referenced.
   * @param {File} file
   * @returns {Promise<{outgoing: sm.Outgoing & {kind: 'file'|'file_ref'}, line: NonNullable<Entry['file']>}>}
   * @private
   */
  async outgoingFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const type = file.type || 'application/octet-stream';
    if (bytes.length <= MAX_INLINE_FILE) {
      const hash = await sha256(bytes.slice().buffer);
      return { outgoing: { kind: 'file', name: file.name, type, data: bytes }, line: fileLine(file.name, type, bytes, sm.b64u(bytes), hash, true) };
    }
    // The upload hashes the file for the message; the line shows the same digest.
    const ref = await files.uploadEncrypted(bytes);
    const line = fileLine(file.name, type, bytes, undefined, ref.sha256, true);
    line.ref = ref;
    return { outgoing: { kind: 'file_ref', id: ref.id, key: ref.key, name: file.name, type, size: bytes.length, sha256: ref.sha256 }, line };
  }

  /**
   * Downloads an uploaded file of a line, decrypts and checks it; the line follows.
   * @param {string} key
   * @param {string} entryId
   * @returns {Promise<void>}
   */
  async download(key, entryId) {
    const entry = this.transfers.conversation(key).find((e) => e.id === entryId);
    const file = entry && entry.file;
    if (!entry || !file || !file.ref || file.state === 'downloading') return;
    file.state = 'downloading';
    this.transfers.changed(key, entry);
    try {
      const bytes = await files.downloadDecrypted(file.ref);
      file.url = URL.createObjectURL(new Blob([bytes], { type: file.type || 'application/octet-stream' }));
      file.done = bytes.length;
      file.state = 'verified';
    } catch (err) {
      file.state = err instanceof files.FileCheckError ? 'corrupted' : err instanceof api.ApiError && err.status === 404 ? 'expired' : 'failed';
      if (file.state === 'failed') console.warn('download', err);
    }
    this.transfers.changed(key, entry);
  }

  /**
   * @param {string} userId
   * @param {sm.Outgoing} outgoing
   * @returns {Promise<{message_id: string, at: number}>}
   * @private
   */
  async sendThroughServer(userId, outgoing) {
    const deviceId = await this.device();
    const at = Date.now();
    const sent = await sm.sendDirect(this.me, deviceId, userId, directConversation(this.me.id, userId), outgoing);
    return { message_id: sent.message_id, at };
  }
}

/**
 * The colleague of a direct conversation id that names the user, or '' for another kind.
 * @param {string} conversationId
 * @param {string} me
 * @returns {string}
 */
function otherOf(conversationId, me) {
  const parts = conversationId.split(':');
  if (parts.length !== 3 || parts[0] !== 'dm' || !parts.slice(1).includes(me)) return '';
  return parts[1] === me ? parts[2] : parts[1];
}

/**
 * The file part of a line for a small file that went through the server.
 * @param {string} name
 * @param {string} type
 * @param {Uint8Array} bytes
 * @param {string|undefined} data The bytes as base64url (kept in the history; none for uploads).
 * @param {string} hash Hex SHA-256.
 * @param {boolean} sent
 * @returns {NonNullable<Entry['file']>}
 */
function fileLine(name, type, bytes, data, hash, sent) {
  const url = URL.createObjectURL(new Blob([bytes.slice().buffer], { type }));
  return { name, type, size: bytes.length, done: bytes.length, state: sent ? 'queued' : 'verified', hash, url, ...(data !== undefined ? { data } : {}) };
}

/**
 * The file part of a line for a file uploaded encrypted, not downloaded here (yet).
 * @param {string} name
 * @param {string} type
 * @param {number} size
 * @param {files.FileRef} ref
 * @returns {NonNullable<Entry['file']>}
 */
function storedFile(name, type, size, ref) {
  return { name, type, size, done: 0, state: 'stored', hash: ref.sha256, ref };
}

/**
 * A kept line back as a conversation line.
 * @param {Kept} line
 * @returns {Promise<Entry>}
 */
async function entryOf(line) {
  /** @type {Entry} */
  const entry = { id: line.id, dir: line.dir, kind: line.kind, at: line.at };
  if (line.text !== undefined) entry.text = line.text;
  if (line.via) entry.via = line.via;
  if (line.unverified) entry.unverified = line.unverified;
  if (line.from) entry.from = line.from;
  if (line.reply_to) entry.reply_to = line.reply_to;
  if (line.mentions) entry.mentions = line.mentions;
  if (line.edited !== undefined) entry.edited = line.edited;
  if (line.deleted) entry.deleted = true;
  if (line.file && line.file.data === undefined && line.file.ref) {
    entry.file = storedFile(line.file.name, line.file.type, line.file.size, line.file.ref);
  } else if (line.file && line.file.data !== undefined) {
    const bytes = /** @type {Uint8Array} */ (sm.unb64u(line.file.data));
    entry.file = fileLine(line.file.name, line.file.type, bytes, line.file.data, await sha256(bytes.slice().buffer), line.dir === 'out');
  }
  return entry;
}

/**
 * A name for this browser that its user recognises on "Security" (sealed on the server).
 * @returns {string}
 */
function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'Web browser';
  const system = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /Linux/.test(ua) ? 'Linux' : /iPhone|iPad/.test(ua) ? 'iOS' : '';
  return system ? `${browser} on ${system}` : browser;
}
