// The key material of one call whose media is end-to-end encrypted with SFrame (docs/sfu.md,
// "Media encrypted end to end: SFrame"): this browser's per-call X25519 key pair, the SFrame base
// keys it draws for what it sends (one per generation, the key id being the generation), those
// keys sealed with HPKE to each other participant's per-call key, and the call safety code that
// shows whether everybody sees the same set of per-call keys. The media server relays the sealed
// keys and never holds one that opens media. No DOM here.
//
// A sealed key (JSON, all byte strings base64url without padding):
//   {v: 1, kid: "<decimal key id>", enc: <32 bytes>, ciphertext: <16-byte base key + 16-byte tag>}
// sealed with HPKE base mode (web/client/hpke.js), info = "bureau call sframe key", and as aad the
// JSON text of ["bureau-call-key-v1", callId, fromPeer, toPeer, kid]: a key sealed for one call,
// sender and recipient does not open in another call, from another sender or for another peer.

import { generateKeyPair, publicKeyBytes, importPublicKey, seal as hpkeSeal, open as hpkeOpen, concat } from '/client/hpke.js';

const INFO = new TextEncoder().encode('bureau call sframe key');
const AAD_LABEL = 'bureau-call-key-v1';
const SAFETY_LABEL = new TextEncoder().encode('bureau-call-safety-v1');
/** Bytes of an SFrame base key (the key length of AES_128_GCM_SHA256_128). */
const BASE_KEY_BYTES = 16;
/** Bytes of an X25519 public key. */
const PUBLIC_KEY_BYTES = 32;
/**
 * Hash rounds of the safety code, as safety.js: whoever slips in keys of their own must find two
 * key sets with the same code while the call is being set up (a birthday search, since they
 * choose the keys on both sides); the rounds make each try thousands of times dearer.
 */
const SAFETY_ROUNDS = 5200;
/** Digits of the code, in groups of four: 20 digits ≈ 66 bits against that search. */
const SAFETY_GROUPS = 5;

/**
 * An SFrame base key of this sender: the key id (= the generation) and 16 random bytes.
 * @typedef {object} SendKey
 * @property {bigint} kid
 * @property {Uint8Array} baseKey
 */

/**
 * What a sealed key is bound to: the call (or room) and the peers it goes from and to.
 * @typedef {object} SealContext
 * @property {string} callId
 * @property {string} fromPeer The sender's peer id (whose media the key opens).
 * @property {string} toPeer The recipient's peer id.
 */

/**
 * A base key sealed to one participant's per-call key, ready for signaling.
 * @typedef {object} SealedKey
 * @property {1} v
 * @property {string} kid Decimal.
 * @property {string} enc base64url.
 * @property {string} ciphertext base64url.
 */

/** This browser's keys for one call. Make a new one for every call: nothing is reused. */
export class CallKeys {
  /**
   * @param {CryptoKeyPair} pair
   * @param {Uint8Array} publicKey
   */
  constructor(pair, publicKey) {
    /** @private */
    this.pair = pair;
    /** @private */
    this.publicKey = publicKey;
    /** @private The generation of the next send key: 0, 1, 2, … */
    this.nextGeneration = 0n;
  }

  /**
   * A fresh per-call key pair; its private key cannot be exported.
   * @returns {Promise<CallKeys>}
   */
  static async create() {
    const pair = await generateKeyPair();
    return new CallKeys(pair, await publicKeyBytes(pair.publicKey));
  }

  /** @returns {Uint8Array} The per-call public key (32 bytes), to announce over signaling. */
  publicBytes() {
    return this.publicKey.slice();
  }

  /**
   * The next base key for what this browser sends: when it starts sending, and after anyone
   * left (the next generation goes only to those still in the call).
   * @returns {SendKey}
   */
  newSendKey() {
    const kid = this.nextGeneration;
    this.nextGeneration += 1n;
    return { kid, baseKey: crypto.getRandomValues(new Uint8Array(BASE_KEY_BYTES)) };
  }

  /**
   * Seals a base key to another participant's per-call public key.
   * @param {Uint8Array} recipientPublicBytes
   * @param {SendKey} key
   * @param {SealContext} context
   * @returns {Promise<SealedKey>}
   */
  async sealFor(recipientPublicBytes, key, context) {
    checkKey(key);
    const recipient = await importPublicKey(recipientPublicBytes);
    const { enc, ciphertext } = await hpkeSeal(recipient, INFO, aadOf(context, key.kid), key.baseKey);
    return { v: 1, kid: key.kid.toString(), enc: b64u(enc), ciphertext: b64u(ciphertext) };
  }

  /**
   * Opens a base key sealed to this browser's per-call key.
   * @param {SealedKey} sealed
   * @param {SealContext} context As the sender sealed it (`toPeer` is this browser).
   * @returns {Promise<SendKey>}
   * @throws {Error} When it is malformed or does not open (another call, sender or recipient,
   *   or changed on the way).
   */
  async open(sealed, context) {
    if (!sealed || sealed.v !== 1 || typeof sealed.kid !== 'string' || !/^\d{1,20}$/.test(sealed.kid)) throw new Error('call-keys: not a sealed key');
    const kid = BigInt(sealed.kid);
    if (kid >= 1n << 64n) throw new Error('call-keys: a key id is an unsigned 64-bit integer');
    const baseKey = await hpkeOpen(this.pair, unb64u(sealed.enc), INFO, aadOf(context, kid), unb64u(sealed.ciphertext));
    const key = { kid, baseKey };
    checkKey(key);
    return key;
  }
}

/**
 * The call safety code: equal on every participant who sees the same per-call public keys, in
 * whatever order they came; it changes when any key is swapped, added or taken away. Iterated
 * SHA-256 over a label and the keys sorted bytewise, shown as 20 digits in groups of four.
 * @param {Uint8Array[]} publicKeys Every participant's per-call public key, this browser's too.
 * @returns {Promise<string>} e.g. "0412 9937 5120 0081 7765".
 */
export async function callSafetyCode(publicKeys) {
  for (const key of publicKeys) {
    if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_BYTES) throw new Error('call-keys: a per-call public key is 32 bytes');
  }
  const keys = concat(...[...publicKeys].sort(compareBytes));
  // Every key is 32 bytes, so the concatenation alone says how many there are and where each is.
  let hash = concat(SAFETY_LABEL, keys);
  for (let i = 0; i < SAFETY_ROUNDS; i++) hash = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(hash, keys)));
  const groups = [];
  for (let g = 0; g < SAFETY_GROUPS; g++) {
    // Four bytes as a 32-bit number modulo 10,000: the bias (2^32 mod 10^4 out of 2^32) is negligible.
    const n = new DataView(hash.buffer, g * 4, 4).getUint32(0);
    groups.push(String(n % 10000).padStart(4, '0'));
  }
  return groups.join(' ');
}

/**
 * @param {SealContext} context
 * @param {bigint} kid
 * @returns {Uint8Array} JSON of an array: unambiguous whatever the ids hold.
 */
function aadOf(context, kid) {
  const { callId, fromPeer, toPeer } = context;
  if (![callId, fromPeer, toPeer].every((s) => typeof s === 'string' && s)) throw new Error('call-keys: the call id and both peer ids are required');
  return new TextEncoder().encode(JSON.stringify([AAD_LABEL, callId, fromPeer, toPeer, kid.toString()]));
}

/** @param {SendKey} key */
function checkKey(key) {
  if (typeof key.kid !== 'bigint' || key.kid < 0n || key.kid >= 1n << 64n) throw new Error('call-keys: a key id is an unsigned 64-bit integer');
  if (!(key.baseKey instanceof Uint8Array) || key.baseKey.length !== BASE_KEY_BYTES) throw new Error(`call-keys: a base key is ${BASE_KEY_BYTES} bytes`);
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {number}
 */
function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * @param {Uint8Array} bytes
 * @returns {string} base64url without padding.
 */
function b64u(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * @param {unknown} text
 * @returns {Uint8Array}
 */
function unb64u(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('call-keys: not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
