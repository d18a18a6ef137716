// End-to-end encrypted direct messages that wait for offline devices (docs/messaging.md, "Direct
// messages"): this browser's device is registered once, a message is encrypted and signed here
// and queued on the server for every recipient device, and a device fetches its inbox, checks
// everything the design names and acknowledges what it processed. The server only ever sees
// ciphertext, public keys and the metadata of the header. No DOM here.
//
// Formats (all base64url without padding on the wire):
// - content: canonical JSON (keys sorted, no spaces) of `{kind: "text", text, reply_to?,
//   mentions?}`, `{kind: "file", name, type, size, data}` with `data` the file's bytes in
//   base64url (small files inline, at most MAX_INLINE_FILE bytes), `{kind: "edit", target,
//   text}` or `{kind: "delete", target}` (target: an earlier message id of the same sender).
// - body: nonce (12 random bytes) ‖ AES-256-GCM(content key, nonce, aad = bodyAad, content),
//   bodyAad = utf8("bureau-msg-body-v1") ‖ 0x00 ‖ utf8(message_id) ‖ 0x00 ‖ utf8(conversation_id).
//   The body cannot take the header as its aad because the header holds the body's digest; the
//   header binds the body through `body_digest`, and the body binds the message and
//   conversation ids through its aad.
// - header: the JSON bytes of `{v: 1, message_id, conversation_id, sender_user, sender_device,
//   counter, sent_at, recipients, body_digest}` in that order, body_digest = base64url(SHA-512(body));
//   signature = Ed25519(sender device's signing key, header bytes).
// - keys[device] = enc (32 bytes) ‖ HPKE.Seal(device's hpke_public, info = "bureau-msg-v1",
//   aad = header bytes, content key (32 bytes)).
//
// State in IndexedDB, database `bureau-messages` (device-keys.js keeps the keys themselves in
// `bureau-device`), store `state`: `device:<user id>` → this browser's device id on the server;
// `sent:<device id>:<conversation id>` → the last counter this device used there;
// `seen:<own device id>:<sender device id>:<conversation id>` → the highest counter accepted.

import { inStore } from '/client/idb.js';
import * as api from '/client/api.js';
import { deviceKeys, hpkePublicBytes, signingPublicBytes, sign, verify } from '/client/device-keys.js';
import { concat, seal, open, importPublicKey } from '/client/hpke.js';
import { groupMessageKey } from '/client/group-keys.js';

/** HPKE info of a message's content key. */
const MSG_INFO = 'bureau-msg-v1';
/** Label of the body's additional data. */
const BODY_LABEL = 'bureau-msg-body-v1';
/** What a device's self-signature starts with. */
const DEVICE_LABEL = 'bureau-device-v1';
/** What a device's inbox proof starts with. */
const AUTH_LABEL = 'bureau-device-auth-v1';
/** The largest file sent inline in a message: its base64url and the JSON stay below the server's 256 KiB body. */
export const MAX_INLINE_FILE = 128 * 1024;
/** How many inbox pages one `fetchInbox` reads at most (100 entries each). */
const MAX_PAGES = 20;

const DB_NAME = 'bureau-messages';
const STORE = 'state';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** @typedef {Uint8Array<ArrayBuffer>} Bytes */

/**
 * What the caller sends: a text (perhaps a reply to an earlier message, perhaps naming the
 * members it mentions), or a small file whose bytes travel inside the message, or a larger one
 * uploaded encrypted (`file_ref`: its upload id, key and SHA-256, client/secure-files.js); an `edit` or a
 * `delete` of an earlier message of the same sender (receivers apply it only when its sender
 * wrote the message it names). A `sender_key` message carries a sender device's key of a group
 * conversation's epoch (client/groups.js): it is stored, never shown.
 * @typedef {{kind: 'text', text: string, reply_to?: string, mentions?: string[]} | {kind: 'file', name: string, type: string, data: Uint8Array}
 *   | {kind: 'file_ref', id: string, key: string, name: string, type: string, size: number, sha256: string}
 *   | {kind: 'history', id: string, key: string, sha256: string, size: number, count: number}
 *   | {kind: 'edit', target: string, text: string} | {kind: 'delete', target: string} | {kind: 'sender_key', epoch: number, key: string, generation?: number}} Outgoing
 */

/**
 * What a message holds once opened (the canonical JSON that was encrypted).
 * @typedef {{kind: 'text', text: string, reply_to?: string, mentions?: string[]} | {kind: 'file', name: string, type: string, size: number, data: string}
 *   | {kind: 'file_ref', id: string, key: string, name: string, type: string, size: number, sha256: string}
 *   | {kind: 'history', id: string, key: string, sha256: string, size: number, count: number}
 *   | {kind: 'edit', target: string, text: string} | {kind: 'delete', target: string} | {kind: 'sender_key', epoch: number, key: string, generation?: number}} Content
 */

/** The most members one message mentions. */
const MAX_MENTIONS = 50;

/**
 * Whether `id` can name a message or a user (what replies, edits, deletions and mentions carry).
 * @param {unknown} id
 * @returns {id is string}
 */
function isRef(id) {
  return typeof id === 'string' && id.length > 0 && id.length <= 100;
}

/**
 * The header as signed.
 * @typedef {object} Header
 * @property {1} v
 * @property {string} message_id
 * @property {string} conversation_id
 * @property {string} sender_user
 * @property {string} sender_device
 * @property {number} counter
 * @property {number} sent_at
 * @property {string[]} recipients
 * @property {string} body_digest
 * @property {number} [epoch] Group messages: the epoch of the sender key that encrypted the body
 *   (no key per device travels with them).
 * @property {number} [generation] Group messages under a rotated sender key: which one (from 1).
 */

/**
 * A message of the inbox that passed every check.
 * @typedef {object} Received
 * @property {true} verified
 * @property {string} id The inbox entry's id.
 * @property {string} message_id
 * @property {string} from_user
 * @property {string} from_device
 * @property {string} conversation_id
 * @property {number} sent_at
 * @property {number} counter
 * @property {number} [epoch] Group messages only.
 * @property {Content} content
 */

/**
 * An inbox entry that failed a check: shown as "a message that could not be verified", never
 * dropped silently. `claimed_*` are what its header says, unverified (absent when unreadable).
 * @typedef {object} Unverified
 * @property {false} verified
 * @property {string} id
 * @property {string} reason
 * @property {number} queued_at
 * @property {string} [claimed_from_user]
 * @property {string} [claimed_conversation_id]
 */

/**
 * A device of the server's list whose self-signature was checked here.
 * @typedef {object} CheckedDevice
 * @property {string} id
 * @property {string} user_id
 * @property {string} name The name its user gave it.
 * @property {CryptoKey} hpke
 * @property {Bytes} signPublic
 */

/**
 * This browser's device for the signed-in user, registered on the first call: its id on the
 * server, remembered in IndexedDB. When the server already has these keys (another tab was
 * quicker, or the record was lost), the device is found in the user's list by its signing key.
 * @param {{id: string}} me The signed-in user (`api.me()`).
 * @param {string} [name] The device's name (sealed on the server).
 * @returns {Promise<string>} The device id.
 */
export async function ensureDevice(me, name = 'Web browser') {
  const signPublic = b64u(await signingPublicBytes());
  const stored = await readState(`device:${me.id}`);
  if (stored && stored.sign_public === signPublic && typeof stored.device_id === 'string') return stored.device_id;
  const hpkePublic = await hpkePublicBytes();
  const selfSignature = await sign(concat(encoder.encode(DEVICE_LABEL), encoder.encode(me.id), hpkePublic));
  let id;
  try {
    const created = await api.registerDevice({ name, hpke_public: b64u(hpkePublic), sign_public: signPublic, self_signature: b64u(selfSignature) });
    id = created.id;
  } catch (err) {
    if (!(err instanceof api.ApiError) || err.status !== 409) throw err;
    const mine = (await api.myDevices()).find((d) => d.sign_public === signPublic);
    if (!mine) throw new Error('secure messages: the server says this device is registered but does not list it');
    id = mine.id;
  }
  checkId(id, 'device id');
  await writeState(`device:${me.id}`, { device_id: id, sign_public: signPublic });
  return id;
}

/**
 * Encrypts, signs and queues one direct message to a colleague's devices and to the sender's own
 * other devices. Devices whose self-signature does not verify are refused (left out, and named
 * in `refused`).
 * @param {{id: string}} me The signed-in user.
 * @param {string} deviceId This browser's device (`ensureDevice`).
 * @param {string} toUserId
 * @param {string} conversationId
 * @param {Outgoing} outgoing
 * @returns {Promise<{id: string, message_id: string, counter: number, recipients: string[], refused: string[]}>}
 */
export async function sendDirect(me, deviceId, toUserId, conversationId, outgoing) {
  /** @type {string[]} */
  const refused = [];
  const theirs = await checkedDevices(toUserId, refused);
  if (!theirs.length) throw new NoDeviceError();
  const own = toUserId === me.id ? [] : await checkedDevices(me.id, refused);
  const sent = await sendToDevices(me, deviceId, [...theirs, ...own], conversationId, outgoing);
  return { ...sent, refused };
}

/**
 * Encrypts, signs and queues one message to the devices given (checked ones; this device is
 * left out), each getting the content key sealed to it with HPKE.
 * @param {{id: string}} me The signed-in user.
 * @param {string} deviceId This browser's device (`ensureDevice`).
 * @param {CheckedDevice[]} devices
 * @param {string} conversationId
 * @param {Outgoing} outgoing
 * @returns {Promise<{id: string, message_id: string, counter: number, recipients: string[]}>}
 */
export async function sendToDevices(me, deviceId, devices, conversationId, outgoing) {
  checkId(deviceId, 'device id');
  checkConversation(conversationId);
  const content = encoder.encode(canonicalJson(contentOf(outgoing)));
  /** @type {Map<string, CheckedDevice>} */
  const targets = new Map();
  for (const d of devices) if (d.id !== deviceId) targets.set(d.id, d);
  if (!targets.size) throw new Error('secure messages: no device to send to');
  const recipients = [...targets.keys()].sort();

  const messageId = b64u(randomBytes(16));
  const contentKeyBytes = randomBytes(32);
  const contentKey = await crypto.subtle.importKey('raw', contentKeyBytes, { name: 'AES-GCM' }, false, ['encrypt']);
  const nonce = randomBytes(12);
  const sealedContent = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: bodyAad(messageId, conversationId) }, contentKey, content));
  const body = concat(nonce, sealedContent);

  const counter = await nextCounter(`sent:${deviceId}:${conversationId}`);
  /** @type {Header} */
  const header = {
    v: 1,
    message_id: messageId,
    conversation_id: conversationId,
    sender_user: me.id,
    sender_device: deviceId,
    counter,
    sent_at: Date.now(),
    recipients,
    body_digest: b64u(await sha512(body)),
  };
  const headerBytes = encoder.encode(JSON.stringify(header));
  /** @type {Record<string, string>} */
  const keys = {};
  for (const id of recipients) {
    const device = /** @type {CheckedDevice} */ (targets.get(id));
    const { enc, ciphertext } = await seal(device.hpke, encoder.encode(MSG_INFO), headerBytes, contentKeyBytes);
    keys[id] = b64u(concat(enc, ciphertext));
  }
  contentKeyBytes.fill(0);
  const signature = await sign(headerBytes);
  const queued = await api.sendMessage({ header: b64u(headerBytes), signature: b64u(signature), body: b64u(body), keys });
  return { id: queued.id, message_id: messageId, counter, recipients };
}

/**
 * Encrypts, signs and queues one group message with this device's key of the epoch (sent to the
 * members' devices before, see client/groups.js): one body for every recipient, no key per device.
 * @param {{id: string}} me
 * @param {string} deviceId
 * @param {string[]} recipients The member devices of the epoch, this one left out.
 * @param {string} conversationId
 * @param {number} epoch
 * @param {Uint8Array} senderKey
 * @param {Outgoing} outgoing
 * @param {number} [generation] Which of this device's keys of the epoch (0: the first; a rotated
 *   key has the next number, and the header names it).
 * @returns {Promise<{id: string, message_id: string, counter: number, recipients: string[]}>}
 */
export async function sendGroupMessage(me, deviceId, recipients, conversationId, epoch, senderKey, outgoing, generation = 0) {
  checkId(deviceId, 'device id');
  checkConversation(conversationId);
  if (outgoing.kind === 'sender_key') throw new Error('secure messages: sender keys travel sealed to each device');
  const content = encoder.encode(canonicalJson(contentOf(outgoing)));
  const sorted = [...new Set(recipients)].filter((id) => id !== deviceId).sort();
  if (!sorted.length) throw new Error('secure messages: no device to send to');
  const messageId = b64u(randomBytes(16));
  const counter = await nextCounter(`sent:${deviceId}:${conversationId}`);
  const key = await groupMessageKey(senderKey, conversationId, epoch, counter, ['encrypt']);
  const nonce = randomBytes(12);
  const sealedContent = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: bodyAad(messageId, conversationId) }, key, content));
  const body = concat(nonce, sealedContent);
  /** @type {Header} */
  const header = {
    v: 1, message_id: messageId, conversation_id: conversationId, epoch, ...(generation ? { generation } : {}), sender_user: me.id, sender_device: deviceId,
    counter, sent_at: Date.now(), recipients: sorted, body_digest: b64u(await sha512(body)),
  };
  const headerBytes = encoder.encode(JSON.stringify(header));
  /** @type {Record<string, string>} */
  const keys = Object.fromEntries(sorted.map((id) => [id, '']));
  const signature = await sign(headerBytes);
  const queued = await api.sendMessage({ header: b64u(headerBytes), signature: b64u(signature), body: b64u(body), keys });
  return { id: queued.id, message_id: messageId, counter, recipients: sorted };
}

/** @param {string} conversationId */
function checkConversation(conversationId) {
  if (typeof conversationId !== 'string' || !conversationId || conversationId.length > 200) throw new Error('secure messages: a conversation id is 1 to 200 characters');
}

/**
 * Makes this device's `Bureau-Device` proofs for requests to its inbox: its signature over
 * `"bureau-device-auth-v1\n<device id>\n<method>\n<path>\n<Unix ms>"`.
 * @param {string} deviceId This browser's device.
 * @returns {(method: string, path: string) => Promise<string>} The header value for a request.
 */
export function prover(deviceId) {
  return async (method, path) => {
    const time = Date.now();
    const signature = await sign(encoder.encode(`${AUTH_LABEL}\n${deviceId}\n${method}\n${path}\n${time}`));
    return `${deviceId} ${time} ${b64u(signature)}`;
  };
}

/** Raised when the recipient has no registered device with a valid self-signature. */
export class NoDeviceError extends Error {
  constructor() {
    super('secure messages: the recipient has no device that can receive encrypted messages');
    this.name = 'NoDeviceError';
  }
}

/**
 * Fetches this device's inbox, checks and opens every entry, and acknowledges all of them (the
 * ones that failed too, so that they do not come back): the server deletes what was
 * acknowledged. Entries come back oldest first.
 * @param {{id: string}} me The signed-in user.
 * @param {string} deviceId This browser's device (`ensureDevice`).
 * @param {(page: Array<Received|Unverified>) => Promise<void>} [keep] Called with each page of
 *   results before it is acknowledged (to store them: once acknowledged, the server has deleted
 *   them). A failure leaves the page on the server for the next fetch.
 * @returns {Promise<Array<Received|Unverified>>}
 */
export async function fetchInbox(me, deviceId, keep = async () => {}) {
  checkId(deviceId, 'device id');
  const stored = await readState(`device:${me.id}`);
  if (!stored || stored.device_id !== deviceId) throw new Error('secure messages: this browser is not that device of the signed-in user (call ensureDevice)');
  const keys = await deviceKeys();
  const prove = prover(deviceId);
  /** @type {Map<string, Promise<CheckedDevice[]>>} Devices per sender, for this fetch. */
  const senders = new Map();
  /** @type {Array<Received|Unverified>} */
  const out = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const entries = await api.deviceInbox(deviceId, prove);
    if (!entries.length) break;
    /** @type {string[]} */
    const processed = [];
    /** @type {Array<Received|Unverified>} */
    const opened = [];
    /** @type {unknown} */
    let failure = null;
    const counters = new Counters();
    try {
      for (const entry of entries) {
        opened.push(await openEntry(entry, deviceId, keys.hpke, senders, counters));
        processed.push(String(entry.id));
      }
    } catch (err) {
      // The server could not be asked (a sender's devices): what was processed is kept and
      // acknowledged, the rest stays on the server for the next fetch, and the caller hears of
      // the failure.
      failure = err;
    }
    if (opened.length) {
      await counters.save();
      await keep(opened);
      await api.acknowledgeInbox(deviceId, prove, processed);
      out.push(...opened);
    }
    if (failure) throw failure;
    if (entries.length < 100) break;
  }
  return out;
}

/**
 * Every check of docs/messaging.md on one entry, in order; the first failure is the reason.
 * @param {api.InboxEntry} entry
 * @param {string} deviceId
 * @param {CryptoKeyPair} hpke
 * @param {Map<string, Promise<CheckedDevice[]>>} senders
 * @param {Counters} counters
 * @returns {Promise<Received|Unverified>}
 */
async function openEntry(entry, deviceId, hpke, senders, counters) {
  /** @type {Header|null} */
  let header = null;
  /** @param {string} reason @returns {Unverified} */
  const failed = (reason) => {
    /** @type {Unverified} */
    const result = { verified: false, id: String(entry.id), reason, queued_at: entry.queued_at };
    if (header) {
      result.claimed_from_user = header.sender_user;
      result.claimed_conversation_id = header.conversation_id;
    }
    return result;
  };
  const headerBytes = unb64u(entry.header);
  if (!headerBytes) return failed('the header is not base64url');
  header = parseHeader(headerBytes);
  if (!header) return failed('the header is malformed');
  const h = header;

  let devices = senders.get(h.sender_user);
  if (!devices) {
    // A sender the server does not know (any more) has no device; other failures are thrown.
    devices = checkedDevices(h.sender_user, []).catch((err) => {
      if (err instanceof api.ApiError && (err.status === 404 || err.status === 403)) return [];
      throw err;
    });
    senders.set(h.sender_user, devices);
  }
  const sender = (await devices).find((d) => d.id === h.sender_device);
  if (!sender) return failed('the sender device is unknown or its self-signature does not verify');

  const signature = unb64u(entry.signature);
  if (!signature || !(await verify(sender.signPublic, signature, headerBytes))) return failed('the signature does not verify');
  if (!h.recipients.includes(deviceId)) return failed('this device is not among the recipients');

  const body = unb64u(entry.body);
  if (!body || body.length < 12 + 16) return failed('the body is malformed');
  if (b64u(await sha512(body)) !== h.body_digest) return failed('the body does not match its digest');

  /** @type {CryptoKey} */
  let contentKey;
  if (h.epoch !== undefined) {
    // A group message: opened with the sender device's key of that epoch, received before.
    const stored = await readState(senderKeyId(deviceId, h.conversation_id, h.epoch, h.sender_device, h.generation));
    const senderKey = stored && typeof stored.key === 'string' ? unb64u(stored.key) : null;
    if (!senderKey) return failed(`no key of epoch ${h.epoch} from that device (this device was not a member then)`);
    contentKey = await groupMessageKey(senderKey, h.conversation_id, h.epoch, h.counter, ['decrypt']);
  } else {
    const sealed = unb64u(entry.key);
    if (!sealed || sealed.length <= 32) return failed('the sealed key is malformed');
    let contentKeyBytes;
    try {
      contentKeyBytes = await open(hpke, sealed.subarray(0, 32), encoder.encode(MSG_INFO), headerBytes, sealed.subarray(32));
    } catch {
      return failed('the content key does not open');
    }
    if (contentKeyBytes.length !== 32) return failed('the content key is malformed');
    contentKey = await crypto.subtle.importKey('raw', new Uint8Array(contentKeyBytes), { name: 'AES-GCM' }, false, ['decrypt']);
    contentKeyBytes.fill(0);
  }
  let content;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: body.subarray(0, 12), additionalData: bodyAad(h.message_id, h.conversation_id) }, contentKey, body.subarray(12));
    content = parseContent(decoder.decode(plain));
  } catch {
    return failed('the body does not open');
  }
  if (!content) return failed('the content is malformed');
  if (content.kind === 'sender_key' && h.epoch !== undefined) return failed('a sender key came inside a group message');

  const accepted = await counters.accept(`seen:${deviceId}:${h.sender_device}:${h.conversation_id}`, h.counter);
  if (!accepted) return failed('the counter is not above the last one seen (a replayed or reordered message)');
  if (content.kind === 'sender_key') {
    await writeState(senderKeyId(deviceId, h.conversation_id, content.epoch, h.sender_device, content.generation), { key: content.key });
  }
  return {
    verified: true,
    id: String(entry.id),
    message_id: h.message_id,
    from_user: h.sender_user,
    from_device: h.sender_device,
    conversation_id: h.conversation_id,
    sent_at: h.sent_at,
    counter: h.counter,
    ...(h.epoch !== undefined ? { epoch: h.epoch } : {}),
    content,
  };
}

/**
 * Where a received sender key is kept: per receiving device, conversation, epoch and sender device.
 * @param {string} deviceId
 * @param {string} conversationId
 * @param {number} epoch
 * @param {string} senderDevice
 * @param {number} [generation] A rotated key's number (none for the epoch's first key).
 * @returns {string}
 */
function senderKeyId(deviceId, conversationId, epoch, senderDevice, generation) {
  return `rk:${deviceId}:${conversationId}:${epoch}:${senderDevice}${generation ? `:g${generation}` : ''}`;
}

/**
 * A user's devices whose self-signature verifies for that user; the others' ids go to `refused`.
 * @param {string} userId
 * @param {string[]} [refused]
 * @returns {Promise<CheckedDevice[]>}
 */
export async function checkedDevices(userId, refused = []) {
  /** @type {CheckedDevice[]} */
  const checked = [];
  for (const d of await api.userDevices(userId)) {
    const hpkePublic = unb64u(d.hpke_public);
    const signPublic = unb64u(d.sign_public);
    const selfSignature = unb64u(d.self_signature);
    const ok = d.user_id === userId && typeof d.id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(d.id)
      && hpkePublic && hpkePublic.length === 32 && signPublic && signPublic.length === 32 && selfSignature
      && await verify(signPublic, selfSignature, concat(encoder.encode(DEVICE_LABEL), encoder.encode(userId), hpkePublic));
    if (!ok || !hpkePublic || !signPublic) {
      refused.push(String(d.id));
      continue;
    }
    let hpke;
    try {
      hpke = await importPublicKey(hpkePublic);
    } catch {
      refused.push(d.id);
      continue;
    }
    checked.push({ id: d.id, user_id: userId, name: String(d.name || ''), hpke, signPublic });
  }
  return checked;
}

/**
 * The content to encrypt, checked.
 * @param {Outgoing} outgoing
 * @returns {Content}
 */
function contentOf(outgoing) {
  if (outgoing && outgoing.kind === 'text') {
    if (typeof outgoing.text !== 'string' || !outgoing.text) throw new Error('secure messages: a text message needs text');
    /** @type {Content} */
    const text = { kind: 'text', text: outgoing.text };
    if (outgoing.reply_to !== undefined) {
      if (!isRef(outgoing.reply_to)) throw new Error('secure messages: reply_to names a message');
      text.reply_to = outgoing.reply_to;
    }
    if (outgoing.mentions !== undefined && outgoing.mentions.length) {
      if (outgoing.mentions.length > MAX_MENTIONS || !outgoing.mentions.every(isRef)) throw new Error(`secure messages: mentions name up to ${MAX_MENTIONS} users`);
      text.mentions = [...new Set(outgoing.mentions)].sort();
    }
    return text;
  }
  if (outgoing && outgoing.kind === 'file_ref') {
    const ref = fileRefOf(outgoing);
    if (!ref) throw new Error('secure messages: a file reference has an id, a 32-byte key, a name, a type, a size and a hex SHA-256');
    return ref;
  }
  if (outgoing && outgoing.kind === 'history') {
    const ref = historyRefOf(outgoing);
    if (!ref) throw new Error('secure messages: a history has an upload id, a 32-byte key, a hex SHA-256, a size and a count');
    return ref;
  }
  if (outgoing && outgoing.kind === 'edit') {
    if (!isRef(outgoing.target) || typeof outgoing.text !== 'string' || !outgoing.text) throw new Error('secure messages: an edit names its message and has text');
    return { kind: 'edit', target: outgoing.target, text: outgoing.text };
  }
  if (outgoing && outgoing.kind === 'delete') {
    if (!isRef(outgoing.target)) throw new Error('secure messages: a deletion names its message');
    return { kind: 'delete', target: outgoing.target };
  }
  if (outgoing && outgoing.kind === 'file') {
    const { name, type, data } = outgoing;
    if (typeof name !== 'string' || !name) throw new Error('secure messages: a file needs a name');
    if (typeof type !== 'string') throw new Error('secure messages: a file needs a type (may be empty)');
    if (!(data instanceof Uint8Array)) throw new Error('secure messages: a file\'s data must be a Uint8Array');
    if (data.length > MAX_INLINE_FILE) throw new Error(`secure messages: files up to ${MAX_INLINE_FILE} bytes travel inside a message`);
    return { kind: 'file', name, type, size: data.length, data: b64u(data) };
  }
  if (outgoing && outgoing.kind === 'sender_key') {
    const key = unb64u(outgoing.key);
    if (!Number.isSafeInteger(outgoing.epoch) || outgoing.epoch < 1 || !key || key.length !== 32) throw new Error('secure messages: a sender key is 32 bytes of an epoch from 1');
    if (outgoing.generation !== undefined && !(Number.isSafeInteger(outgoing.generation) && outgoing.generation >= 1)) throw new Error('secure messages: a rotated sender key\'s generation counts from 1');
    return { kind: 'sender_key', epoch: outgoing.epoch, key: outgoing.key, ...(outgoing.generation ? { generation: outgoing.generation } : {}) };
  }
  throw new Error('secure messages: a message is {kind: "text"}, {kind: "file"}, {kind: "file_ref"}, {kind: "history"}, {kind: "edit"}, {kind: "delete"} or {kind: "sender_key"}');
}

/**
 * A file reference with every field right, or null.
 * @param {any} c
 * @returns {Content|null}
 */
function fileRefOf(c) {
  const key = unb64u(c.key);
  const ok = isRef(c.id) && key && key.length === 32 && typeof c.name === 'string' && c.name && typeof c.type === 'string'
    && Number.isSafeInteger(c.size) && c.size >= 0 && typeof c.sha256 === 'string' && /^[0-9a-f]{64}$/.test(c.sha256);
  return ok ? { kind: 'file_ref', id: c.id, key: c.key, name: c.name, type: c.type, size: c.size, sha256: c.sha256 } : null;
}

/**
 * A history sent by another of the user's devices (client/history-transfer.js), or null.
 * @param {any} c
 * @returns {Content|null}
 */
function historyRefOf(c) {
  const key = unb64u(c.key);
  const ok = isRef(c.id) && key && key.length === 32 && typeof c.sha256 === 'string' && /^[0-9a-f]{64}$/.test(c.sha256)
    && Number.isSafeInteger(c.size) && c.size >= 0 && Number.isSafeInteger(c.count) && c.count >= 0;
  return ok ? { kind: 'history', id: c.id, key: c.key, sha256: c.sha256, size: c.size, count: c.count } : null;
}

/**
 * Opened content, checked: exactly the fields of its kind.
 * @param {string} text
 * @returns {Content|null}
 */
function parseContent(text) {
  /** @type {any} */
  let c;
  try {
    c = JSON.parse(text);
  } catch {
    return null;
  }
  if (!c || typeof c !== 'object') return null;
  const fields = Object.keys(c).sort().join(',');
  if (c.kind === 'text' && typeof c.text === 'string' && /^kind(,mentions)?(,reply_to)?,text$/.test(fields)) {
    /** @type {Content} */
    const text = { kind: 'text', text: c.text };
    if (c.reply_to !== undefined) {
      if (!isRef(c.reply_to)) return null;
      text.reply_to = c.reply_to;
    }
    if (c.mentions !== undefined) {
      if (!Array.isArray(c.mentions) || c.mentions.length > MAX_MENTIONS || !c.mentions.every(isRef)) return null;
      text.mentions = c.mentions;
    }
    return text;
  }
  if (c.kind === 'file_ref' && fields === 'id,key,kind,name,sha256,size,type') return fileRefOf(c);
  if (c.kind === 'history' && fields === 'count,id,key,kind,sha256,size') return historyRefOf(c);
  if (c.kind === 'edit' && fields === 'kind,target,text' && isRef(c.target) && typeof c.text === 'string' && c.text) return { kind: 'edit', target: c.target, text: c.text };
  if (c.kind === 'delete' && fields === 'kind,target' && isRef(c.target)) return { kind: 'delete', target: c.target };
  if (c.kind === 'file' && fields === 'data,kind,name,size,type' && typeof c.name === 'string' && typeof c.type === 'string'
    && typeof c.data === 'string' && Number.isSafeInteger(c.size)) {
    const data = unb64u(c.data);
    if (!data || data.length !== c.size) return null;
    return { kind: 'file', name: c.name, type: c.type, size: c.size, data: c.data };
  }
  if (c.kind === 'sender_key' && /^epoch(,generation)?,key,kind$/.test(fields) && Number.isSafeInteger(c.epoch) && c.epoch >= 1 && typeof c.key === 'string'
    && (c.generation === undefined || (Number.isSafeInteger(c.generation) && c.generation >= 1))) {
    const key = unb64u(c.key);
    if (!key || key.length !== 32) return null;
    return { kind: 'sender_key', epoch: c.epoch, key: c.key, ...(c.generation ? { generation: c.generation } : {}) };
  }
  return null;
}

/**
 * @param {Bytes} bytes
 * @returns {Header|null} The header when it has every field with the right type.
 */
function parseHeader(bytes) {
  /** @type {any} */
  let h;
  try {
    h = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  const str = (/** @type {unknown} */ v) => typeof v === 'string' && v.length > 0;
  const ok = h && typeof h === 'object' && h.v === 1 && str(h.message_id) && str(h.conversation_id) && str(h.sender_user)
    && str(h.sender_device) && Number.isSafeInteger(h.counter) && h.counter > 0 && Number.isSafeInteger(h.sent_at)
    && Array.isArray(h.recipients) && h.recipients.every(str) && str(h.body_digest)
    && (h.epoch === undefined || (Number.isSafeInteger(h.epoch) && h.epoch >= 1))
    && (h.generation === undefined || (h.epoch !== undefined && Number.isSafeInteger(h.generation) && h.generation >= 1));
  return ok ? h : null;
}

/**
 * The body's additional data: label, message id and conversation id, separated by zero bytes.
 * @param {string} messageId
 * @param {string} conversationId
 * @returns {Bytes}
 */
function bodyAad(messageId, conversationId) {
  return concat(encoder.encode(BODY_LABEL), Uint8Array.of(0), encoder.encode(messageId), Uint8Array.of(0), encoder.encode(conversationId));
}

/**
 * JSON with object keys sorted at every level and no whitespace.
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value && typeof value === 'object') {
    const obj = /** @type {Record<string, unknown>} */ (value);
    return '{' + Object.keys(obj).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

// ---- IndexedDB state ----

/**
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore, done: (value: T) => void) => void} step
 * @returns {Promise<T>}
 */
function transact(mode, step) {
  return inStore(DB_NAME, STORE, 'secure messages', mode, step);
}

/**
 * @param {string} id
 * @returns {Promise<Record<string, any>|undefined>}
 */
export function readState(id) {
  return transact('readonly', (store, done) => {
    const get = store.get(id);
    get.onsuccess = () => done(get.result);
  });
}

/**
 * @param {string} id
 * @param {Record<string, unknown>} value
 * @returns {Promise<void>}
 */
export function writeState(id, value) {
  return transact('readwrite', (store, done) => {
    store.put({ ...value, id });
    done(undefined);
  });
}

/**
 * The next counter under `id` (1 first), stored before it is used: a counter is never used twice,
 * also across tabs (readwrite transactions on a store run one after the other).
 * @param {string} id
 * @returns {Promise<number>}
 */
function nextCounter(id) {
  return transact('readwrite', (store, done) => {
    const get = store.get(id);
    get.onsuccess = () => {
      const next = (get.result && Number.isSafeInteger(get.result.counter) ? get.result.counter : 0) + 1;
      store.put({ id, counter: next });
      done(next);
    };
  });
}

/**
 * The last counters seen, for one page of the inbox: each is read once, checked in memory, and
 * the ones that grew are written together (before the page is acknowledged) — one IndexedDB
 * transaction per page instead of one per message.
 */
class Counters {
  constructor() {
    /** @type {Map<string, number>} */
    this.last = new Map();
    /** @type {Set<string>} */
    this.changed = new Set();
  }

  /**
   * Records `counter` under `id` when it is above the last one; whether it was.
   * @param {string} id
   * @param {number} counter
   * @returns {Promise<boolean>}
   */
  async accept(id, counter) {
    let last = this.last.get(id);
    if (last === undefined) {
      const stored = await readState(id);
      last = stored && Number.isSafeInteger(stored.counter) ? Number(stored.counter) : 0;
    }
    if (counter <= last) {
      this.last.set(id, last);
      return false;
    }
    this.last.set(id, counter);
    this.changed.add(id);
    return true;
  }

  /**
   * Writes the counters that grew (never lowering one another tab wrote meanwhile).
   * @returns {Promise<void>}
   */
  save() {
    const ids = [...this.changed];
    this.changed.clear();
    if (!ids.length) return Promise.resolve();
    return transact('readwrite', (store, done) => {
      for (const id of ids) {
        const get = store.get(id);
        get.onsuccess = () => {
          const stored = get.result && Number.isSafeInteger(get.result.counter) ? get.result.counter : 0;
          store.put({ id, counter: Math.max(stored, /** @type {number} */ (this.last.get(id))) });
        };
      }
      done(undefined);
    });
  }
}

// ---- bytes ----

/**
 * @param {string} id
 * @param {string} what
 */
function checkId(id, what) {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new Error(`secure messages: not a ${what}: ${String(id)}`);
}

/**
 * @param {number} n
 * @returns {Bytes}
 */
function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * @param {Bytes} bytes
 * @returns {Promise<Bytes>}
 */
async function sha512(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-512', bytes));
}

/**
 * Base64url without padding (RFC 4648 section 5).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64u(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Strict base64url without padding; null for anything else.
 * @param {unknown} text
 * @returns {Bytes|null}
 */
export function unb64u(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    return null;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

