// The SFrame encoded transform of a call (docs/sfu.md, "Media encrypted end to end: SFrame"): a
// module Worker that WebRTC runs every encoded audio and video frame through, encrypting what this
// browser sends and decrypting what each other participant sends, so that the media server only
// ever forwards ciphertext. media-encryption.js starts it and feeds it keys; web/client/sframe.js
// does the cryptography. No DOM here.
//
// Path: `RTCRtpScriptTransform` (the standard API; Chromium 156 has it, and the `rtctransform`
// event fires here), set as `sender.transform` / `receiver.transform` with options
// `{side: 'send'|'receive', kind: 'audio'|'video', peer}` (`peer`: the sender's peer id, on the
// receiving side). The older `createEncodedStreams()` path is not needed.
//
// Frame layout, on the wire inside RTP (after this transform on the sending side):
//
//   clear bytes (N) ‖ SFrame header (KID, CTR) ‖ AES-GCM ciphertext of the rest ‖ 16-byte tag
//
// N = 10 for a VP8 key frame, 3 for a VP8 delta frame, 1 for an Opus frame (its TOC byte), or
// the whole frame when it is shorter. The clear bytes are what the receiver's depacketizer and
// the SFU read (frame type and size); they are SFrame metadata, so authenticated with the header
// as AES-GCM's additional data: a change to them fails the frame. CTR counts per send key from 0
// and is never reused under a key (a key id once used for sending is refused again).
//
// Receiving: the KID of the header picks the sender's key (peer, kid); an unknown key or a
// frame that fails authentication is dropped (never passed on in the clear) and counted; an
// empty frame (an RTP packet without payload) is dropped without counting. A peer's
// older keys stay OLD_KEY_GRACE_MS after a newer key id arrives, for frames still in flight.

import { deriveKeySalt, encrypt, decrypt } from '/client/sframe.js';

/** How long a peer's older keys are kept once a newer key id of theirs arrived. */
const OLD_KEY_GRACE_MS = 3000;
/** Bytes left in clear: VP8 payload header of a key frame, of a delta frame; Opus TOC. */
const CLEAR_VIDEO_KEY = 10;
const CLEAR_VIDEO_DELTA = 3;
const CLEAR_AUDIO = 1;

/**
 * @typedef {import('/client/sframe.js').KeySalt} KeySalt
 * @typedef {RTCEncodedVideoFrame|RTCEncodedAudioFrame} EncodedFrame
 * @typedef {{side: 'send'|'receive', kind: 'audio'|'video', peer?: string}} TransformOptions
 * @typedef {{options: TransformOptions, readable: ReadableStream<EncodedFrame>, writable: WritableStream<EncodedFrame>}} ScriptTransformer
 * @typedef {{kid: bigint, keySalt: KeySalt, baseKey: Uint8Array}} HeldKey
 * @typedef {{decrypted: number, failed: number}} ReceiveCounts
 * @typedef {{encrypted: number, withoutKey: number}} SendCounts
 */

/**
 * The worker's global scope as this file uses it. tsc checks web/ with the DOM lib, where `self`
 * is a Window, and the webworker lib cannot be loaded beside it (they declare the same names):
 * so the two worker members used here are typed by hand, and `globalThis` cast once.
 * @typedef {object} WorkerScope
 * @property {(message: unknown) => void} postMessage
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 */
const scope = /** @type {WorkerScope} */ (/** @type {unknown} */ (globalThis));

/** @type {(HeldKey & {nextCtr: bigint})|null} What this browser sends with now. */
let sending = null;
/** Key ids this worker has sent with: one is never used again, its counter would restart. */
const usedSendKids = new Set();
/** @type {Map<string, Map<bigint, HeldKey>>} peer → key id → key */
const receiveKeys = new Map();
/** @type {Record<'audio'|'video', SendCounts>} */
const sent = { audio: { encrypted: 0, withoutKey: 0 }, video: { encrypted: 0, withoutKey: 0 } };
/** @type {Map<string, Record<'audio'|'video', ReceiveCounts>>} peer → kind → counts */
const received = new Map();

scope.addEventListener('rtctransform', (/** @type {{transformer: ScriptTransformer}} */ event) => {
  const { readable, writable, options } = event.transformer;
  const kind = options.kind === 'audio' ? 'audio' : 'video';
  const transform = options.side === 'send'
    ? (/** @type {EncodedFrame} */ frame, /** @type {TransformStreamDefaultController<EncodedFrame>} */ out) => encryptFrame(frame, kind, out)
    : (/** @type {EncodedFrame} */ frame, /** @type {TransformStreamDefaultController<EncodedFrame>} */ out) => decryptFrame(frame, kind, String(options.peer || ''), out);
  // A TransformStream handles one frame at a time, so frames leave in the order they came.
  readable.pipeThrough(new TransformStream({ transform })).pipeTo(writable).catch(() => {
    // The sender or receiver went away (track stopped, connection closed): nothing to do.
  });
});

/**
 * @param {EncodedFrame} frame
 * @param {'audio'|'video'} kind
 * @returns {number} Bytes left in clear at the frame's start.
 */
function clearLength(frame, kind) {
  const wanted = kind === 'audio' ? CLEAR_AUDIO : /** @type {RTCEncodedVideoFrame} */ (frame).type === 'key' ? CLEAR_VIDEO_KEY : CLEAR_VIDEO_DELTA;
  return Math.min(wanted, frame.data.byteLength);
}

/**
 * @param {EncodedFrame} frame
 * @param {'audio'|'video'} kind
 * @param {TransformStreamDefaultController<EncodedFrame>} out
 */
async function encryptFrame(frame, kind, out) {
  const key = sending;
  // Without a key nothing is sent: media never leaves in the clear.
  if (!key) {
    sent[kind].withoutKey += 1;
    return;
  }
  // The counter moves before the first await: two frames never get the same one.
  const ctr = key.nextCtr;
  key.nextCtr += 1n;
  try {
    const data = new Uint8Array(frame.data);
    const clear = clearLength(frame, kind);
    const sealed = await encrypt(key.keySalt, ctr, data.subarray(0, clear), data.subarray(clear));
    const result = new Uint8Array(clear + sealed.length);
    result.set(data.subarray(0, clear));
    result.set(sealed, clear);
    frame.data = result.buffer;
    sent[kind].encrypted += 1;
    out.enqueue(frame);
  } catch {
    // Dropped, not thrown: an error would end the stream and the track with it.
    sent[kind].withoutKey += 1;
  }
}

/**
 * @param {EncodedFrame} frame
 * @param {'audio'|'video'} kind
 * @param {string} peer Whose frames these are.
 * @param {TransformStreamDefaultController<EncodedFrame>} out
 */
async function decryptFrame(frame, kind, peer, out) {
  // RTP packets without payload (padding, e.g. while the bandwidth is probed) come as empty
  // frames: nothing to open or play, and not a failure of anyone's key.
  if (frame.data.byteLength === 0) return;
  const counts = countsOf(peer)[kind];
  try {
    const data = new Uint8Array(frame.data);
    const clear = clearLength(frame, kind);
    const keys = receiveKeys.get(peer);
    const opened = await decrypt((kid) => keys && keys.get(kid)?.keySalt, data.subarray(0, clear), data.subarray(clear));
    if (!opened) {
      counts.failed += 1;
      return;
    }
    const result = new Uint8Array(clear + opened.plaintext.length);
    result.set(data.subarray(0, clear));
    result.set(opened.plaintext, clear);
    frame.data = result.buffer;
    counts.decrypted += 1;
    out.enqueue(frame);
  } catch {
    counts.failed += 1;
  }
}

/**
 * @param {string} peer
 * @returns {Record<'audio'|'video', ReceiveCounts>}
 */
function countsOf(peer) {
  let counts = received.get(peer);
  if (!counts) {
    counts = { audio: { decrypted: 0, failed: 0 }, video: { decrypted: 0, failed: 0 } };
    received.set(peer, counts);
  }
  return counts;
}

/**
 * @param {unknown} kid
 * @param {unknown} baseKey
 * @returns {Promise<HeldKey>}
 */
async function heldKey(kid, baseKey) {
  if (typeof kid !== 'bigint' || !(baseKey instanceof Uint8Array) || baseKey.length !== 16) throw new Error('sframe-worker: a key is {kid: bigint, baseKey: 16 bytes}');
  return { kid, keySalt: await deriveKeySalt(kid, baseKey), baseKey: baseKey.slice() };
}

/**
 * Keeps a key of a peer; when its id is the peer's newest, the older ones go after the grace time.
 * @param {string} peer
 * @param {HeldKey} key
 */
function addReceiveKey(peer, key) {
  let keys = receiveKeys.get(peer);
  if (!keys) {
    keys = new Map();
    receiveKeys.set(peer, keys);
  }
  keys.set(key.kid, key);
  const newest = [...keys.keys()].reduce((a, b) => (a > b ? a : b));
  const held = keys;
  setTimeout(() => {
    for (const kid of [...held.keys()]) if (kid < newest) held.delete(kid);
  }, OLD_KEY_GRACE_MS);
}

/** @param {Uint8Array} bytes */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Answers one request of media-encryption.js.
 * @param {any} msg
 * @returns {Promise<unknown>}
 */
async function handle(msg) {
  switch (msg.type) {
    case 'send-key': {
      if (usedSendKids.has(msg.kid)) throw new Error(`sframe-worker: key id ${msg.kid} was sent with already`);
      const key = await heldKey(msg.kid, msg.baseKey);
      usedSendKids.add(key.kid);
      sending = { ...key, nextCtr: 0n };
      return null;
    }
    case 'receive-key':
      addReceiveKey(String(msg.peer), await heldKey(msg.kid, msg.baseKey));
      return null;
    case 'remove-peer':
      receiveKeys.delete(String(msg.peer));
      return null;
    case 'stats':
      return { sent: structuredClone(sent), received: Object.fromEntries([...received].map(([peer, c]) => [peer, structuredClone(c)])) };
    case 'keys-for-test':
      return {
        send: sending && { kid: sending.kid.toString(), baseKey: hex(sending.baseKey) },
        receive: Object.fromEntries([...receiveKeys].map(([peer, keys]) => [peer, Object.fromEntries([...keys].map(([kid, k]) => [kid.toString(), hex(k.baseKey)]))])),
      };
    default:
      throw new Error(`sframe-worker: unknown request ${msg.type}`);
  }
}

/** Requests run one after another: keys given in order are applied in order. */
let queue = Promise.resolve();
scope.addEventListener('message', (/** @type {MessageEvent} */ event) => {
  const msg = event.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage({ id: msg.id, ok: true, value: await handle(msg) });
    } catch (err) {
      scope.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
});
