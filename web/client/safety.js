// Verification anyone can do (docs/messaging.md): the safety code of two users, computed the same
// way on both sides from their devices' signing keys, and what this device remembers about a
// colleague's devices — the keys it last accepted and whether the user compared the code — so
// that a change is shown before the next message is sent. No DOM here.

import { checkedDevices, readState, writeState, b64u } from '/client/secure-messages.js';
import { concat } from '/client/hpke.js';

const LABEL = 'bureau-safety-v1';
/** Hash rounds, as Signal's safety numbers use: they make a search for a colliding key set slow. */
const ROUNDS = 5200;
const encoder = new TextEncoder();

/**
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 */

/**
 * What this device knows of a colleague's devices now.
 * @typedef {object} Trust
 * @property {CheckedDevice[]} devices Their devices whose self-signature verifies.
 * @property {string[]} keys Their signing keys (base64url), sorted.
 * @property {boolean} verified The user compared the safety code for the keys they accepted.
 * @property {{added: number, removed: number}|null} change Since the keys the user accepted;
 *   `null` when unchanged (or on first contact, which is accepted as it is).
 */

/**
 * The 60 bytes a user's half of a safety code comes from: SHA-512 iterated over the label, the
 * user id and the user's devices' signing keys in sorted order.
 * @param {string} userId
 * @param {Uint8Array[]} signPublics
 * @returns {Promise<Uint8Array>}
 */
export async function fingerprint(userId, signPublics) {
  const keys = concat(...[...signPublics].sort(compareBytes));
  let hash = concat(encoder.encode(LABEL), encoder.encode(userId), new Uint8Array([0]), keys);
  for (let i = 0; i < ROUNDS; i++) hash = new Uint8Array(await crypto.subtle.digest('SHA-512', concat(hash, keys)));
  return hash;
}

/**
 * Thirty digits from the first 30 bytes of a fingerprint: six chunks of five bytes, each read as
 * a 40-bit number modulo 100,000.
 * @param {Uint8Array} hash
 * @returns {string}
 */
function digits(hash) {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + hash[chunk * 5 + i];
    out += String(n % 100000).padStart(5, '0');
  }
  return out;
}

/**
 * The safety code of two users (60 digits), the same whoever computes it: each user's 30 digits,
 * ordered by user id.
 * @param {{userId: string, signPublics: Uint8Array[]}} a
 * @param {{userId: string, signPublics: Uint8Array[]}} b
 * @returns {Promise<string>}
 */
export async function safetyCode(a, b) {
  const [first, second] = a.userId < b.userId ? [a, b] : [b, a];
  return digits(await fingerprint(first.userId, first.signPublics)) + digits(await fingerprint(second.userId, second.signPublics));
}

/**
 * A code in groups of five digits, as it is shown and read out.
 * @param {string} code
 * @returns {string[]}
 */
export function groupsOf(code) {
  return code.match(/.{1,5}/g) || [];
}

/**
 * The colleague's devices now, compared with the keys this device accepted before. The first
 * look at a colleague (or at one who had no device yet) accepts their keys as they are.
 * @param {string} me
 * @param {string} peer
 * @returns {Promise<Trust>}
 */
export async function trustOf(me, peer) {
  const devices = await checkedDevices(peer);
  const keys = devices.map((d) => b64u(d.signPublic)).sort();
  const record = await readState(recordId(me, peer));
  const known = record && Array.isArray(record.keys) ? /** @type {string[]} */ (record.keys) : [];
  if (!known.length) {
    if (keys.length) await writeState(recordId(me, peer), { keys, verified: false });
    return { devices, keys, verified: false, change: null };
  }
  const verified = Boolean(record && record.verified);
  const added = keys.filter((k) => !known.includes(k)).length;
  const removed = known.filter((k) => !keys.includes(k)).length;
  return { devices, keys, verified, change: added || removed ? { added, removed } : null };
}

/**
 * Accepts the colleague's keys as they are now (after a change was shown), verified or not.
 * @param {string} me
 * @param {string} peer
 * @param {string[]} keys As `trustOf` gave them.
 * @param {boolean} verified The user compared the safety code for these keys.
 * @returns {Promise<void>}
 */
export function accept(me, peer, keys, verified) {
  return writeState(recordId(me, peer), { keys, verified });
}

/**
 * @param {string} me
 * @param {string} peer
 * @returns {string}
 */
function recordId(me, peer) {
  return `contact:${me}:${peer}`;
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
