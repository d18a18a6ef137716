// Group conversations (docs/messaging.md, "Groups: sender keys, rotated on membership change"):
// each sender device makes a random 32-byte key per conversation and epoch, sends it sealed
// with HPKE to the devices of that epoch's members (a `sender_key` message), and encrypts its
// group messages with a key derived from it per message (client/group-keys.js). When membership
// changes the server starts a new epoch; the next message makes a new sender key and sends it to
// the members of the new epoch only, so a removed member cannot read what follows. A member's
// device that appears within an epoch gets the current key before the next message. A sender key
// is also replaced after 1,000 messages or 7 days (a new generation of the epoch, sent to the
// members' devices like the first). No DOM.

import * as api from '/client/api.js';
import { checkedDevices, sendToDevices, sendGroupMessage, readState, writeState, b64u, unb64u } from '/client/secure-messages.js';

/** A sender key is replaced after this many messages within one epoch... */
export const ROTATE_AFTER_MESSAGES = 1000;
/** ...or once it is this old (milliseconds): 7 days. */
export const ROTATE_AFTER_MS = 7 * 24 * 3600 * 1000;

/**
 * This device's sender key of one conversation's epoch, as kept.
 * @typedef {object} SenderKeyState
 * @property {string} key 32 random bytes, base64url.
 * @property {string[]} given The member devices it was sent to.
 * @property {number} generation 0 for the epoch's first key, then one more per rotation.
 * @property {number} made_at When it was made (Unix ms).
 * @property {number} used Messages sent with it.
 */

/**
 * The key to send with: the kept one, or a new one (with the next generation, given to nobody
 * yet) when there is none, or when it was used for ROTATE_AFTER_MESSAGES messages or is
 * ROTATE_AFTER_MS old. Whoever obtains a sender key reads what it encrypted, no further.
 * @param {any} stored What the state store held (nothing, or a SenderKeyState; keys kept before
 *   rotation existed have no generation, age or count: they count from now).
 * @param {number} now
 * @returns {SenderKeyState}
 */
export function rotated(stored, now) {
  if (stored && typeof stored.key === 'string' && Array.isArray(stored.given)) {
    const state = { key: stored.key, given: stored.given, generation: Number(stored.generation) || 0,
      made_at: Number.isSafeInteger(stored.made_at) ? stored.made_at : now, used: Number(stored.used) || 0 };
    if (state.used < ROTATE_AFTER_MESSAGES && now - state.made_at < ROTATE_AFTER_MS) return state;
    return { key: newKey(), given: [], generation: state.generation + 1, made_at: now, used: 0 };
  }
  return { key: newKey(), given: [], generation: 0, made_at: now, used: 0 };
}

/** @returns {string} */
function newKey() {
  return b64u(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * @typedef {import('/client/secure-messages.js').Outgoing} Outgoing
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 */

/**
 * Sends one message to a group conversation as it is now (its epoch and members, asked of the
 * server): first this device's key of the epoch to every member device that does not have it
 * yet, then the message encrypted with it.
 * @param {{id: string}} me
 * @param {string} deviceId This browser's device.
 * @param {string} conversationId
 * @param {Outgoing} outgoing A text or a small file.
 * @returns {Promise<{message_id: string, epoch: number, generation: number, recipients: string[], keyed: string[]}>}
 *   `keyed`: the devices that got the sender key with this message; `generation`: which key of the epoch.
 */
export async function sendToGroup(me, deviceId, conversationId, outgoing) {
  const conversation = await api.conversation(conversationId);
  /** @type {CheckedDevice[]} */
  const devices = [];
  for (const member of conversation.members) devices.push(...await checkedDevices(member));
  const others = devices.filter((d) => d.id !== deviceId);
  if (!others.length) throw new Error('groups: no member has a device that can receive encrypted messages');

  const slot = `sk:${deviceId}:${conversation.id}:${conversation.epoch}`;
  const state = rotated(await readState(slot), Date.now());
  // Kept before it is sent: a key given to nobody is harmless, a key given but forgotten is not.
  await writeState(slot, state);
  const missing = others.filter((d) => !state.given.includes(d.id));
  if (missing.length) {
    /** @type {Outgoing} */
    const keyMessage = { kind: 'sender_key', epoch: conversation.epoch, key: state.key };
    if (state.generation) keyMessage.generation = state.generation;
    await sendToDevices(me, deviceId, missing, conversation.id, keyMessage);
    state.given.push(...missing.map((d) => d.id));
    await writeState(slot, state);
  }
  const key = /** @type {Uint8Array} */ (unb64u(state.key));
  const sent = await sendGroupMessage(me, deviceId, others.map((d) => d.id), conversation.id, conversation.epoch, key, outgoing, state.generation);
  state.used += 1;
  await writeState(slot, state);
  return { message_id: sent.message_id, epoch: conversation.epoch, generation: state.generation, recipients: sent.recipients, keyed: missing.map((d) => d.id) };
}
