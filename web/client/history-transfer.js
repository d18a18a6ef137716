// Moving one's message history to another of one's own devices (docs/messaging.md, "Several
// devices, history"). The old device packs this device's kept lines (client/history.js) as JSON,
// encrypts and uploads them like a large file (client/secure-files.js) and sends the reference
// in a message sealed to the new device only. Both devices show a six-digit **device code**
// derived from the two devices' signing keys; the user compares it on both screens before
// sending and before importing, so that a device the server slipped into the list neither
// receives the history nor can pass off a history of its own. No DOM.

import * as history from '/client/history.js';
import * as files from '/client/secure-files.js';
import { sendToDevices } from '/client/secure-messages.js';

/**
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 * @typedef {import('/client/history.js').Kept} Kept
 * @typedef {import('/client/secure-files.js').FileRef} FileRef
 */

const CODE_LABEL = 'bureau-device-code-v1';

/**
 * The device code of two devices: the same six digits on both, whichever computes it.
 * @param {Uint8Array} signA One device's raw Ed25519 public key.
 * @param {Uint8Array} signB The other's.
 * @returns {Promise<string>}
 */
export async function deviceCode(signA, signB) {
  const [first, second] = compare(signA, signB) <= 0 ? [signA, signB] : [signB, signA];
  const label = new TextEncoder().encode(CODE_LABEL);
  const input = new Uint8Array(label.length + first.length + second.length);
  input.set(label);
  input.set(first, label.length);
  input.set(second, label.length + first.length);
  const digest = new DataView(await crypto.subtle.digest('SHA-256', input));
  return String(digest.getUint32(0) % 1_000_000).padStart(6, '0');
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {number}
 */
function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Sends this device's history to another device of the same user.
 * @param {{id: string}} me
 * @param {string} deviceId This browser's device.
 * @param {CheckedDevice} target The other device (its code compared by the user).
 * @returns {Promise<number>} How many lines went.
 */
export async function sendHistory(me, deviceId, target) {
  if (target.user_id !== me.id || target.id === deviceId) throw new Error('history: only to another device of your own');
  const lines = await history.lines(me.id);
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, lines }));
  const ref = await files.uploadEncrypted(bytes);
  await sendToDevices(me, deviceId, [target], `dm:${me.id}:${me.id}`, { kind: 'history', id: ref.id, key: ref.key, sha256: ref.sha256, size: bytes.length, count: lines.length });
  return lines.length;
}

/**
 * Downloads, checks and keeps a history another device of the user sent: lines of other users
 * or of unknown shape are left out; lines this device has keep this device's version.
 * @param {{id: string}} me
 * @param {FileRef} ref
 * @returns {Promise<Kept[]>} The lines added.
 */
export async function importHistory(me, ref) {
  const bytes = await files.downloadDecrypted(ref);
  /** @type {any} */
  let packed;
  try {
    packed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new files.FileCheckError('the history is not readable');
  }
  if (!packed || packed.v !== 1 || !Array.isArray(packed.lines)) throw new files.FileCheckError('the history is not readable');
  const have = new Set((await history.lines(me.id)).map((line) => line.id));
  const added = packed.lines.filter((/** @type {any} */ line) => isLine(line, me.id) && !have.has(line.id));
  await history.keep(added);
  return added;
}

/**
 * Whether a value is a kept line of `owner` with the fields a line needs.
 * @param {any} line
 * @param {string} owner
 * @returns {line is Kept}
 */
function isLine(line, owner) {
  return Boolean(line) && typeof line === 'object' && line.owner === owner && typeof line.id === 'string' && typeof line.peer === 'string'
    && (line.dir === 'in' || line.dir === 'out') && (line.kind === 'message' || line.kind === 'file') && Number.isFinite(line.at)
    && (line.text === undefined || typeof line.text === 'string');
}
