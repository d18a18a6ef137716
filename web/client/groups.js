// Group conversations (docs/messaging.md, "Groups: sender keys, rotated on membership change"):
// each sender device makes a random 32-byte key per conversation and epoch, sends it sealed
// with HPKE to the devices of that epoch's members (a `sender_key` message), and encrypts its
// group messages with a key derived from it per message (client/group-keys.js). When membership
// changes the server starts a new epoch; the next message makes a new sender key and sends it to
// the members of the new epoch only, so a removed member cannot read what follows. A member's
// device that appears within an epoch gets the current key before the next message. No DOM.

import * as api from '/client/api.js';
import { checkedDevices, sendToDevices, sendGroupMessage, readState, writeState, b64u, unb64u } from '/client/secure-messages.js';

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
 * @returns {Promise<{message_id: string, epoch: number, recipients: string[], keyed: string[]}>}
 *   `keyed`: the devices that got the sender key with this message.
 */
export async function sendToGroup(me, deviceId, conversationId, outgoing) {
  const conversation = await api.conversation(conversationId);
  /** @type {CheckedDevice[]} */
  const devices = [];
  for (const member of conversation.members) devices.push(...await checkedDevices(member));
  const others = devices.filter((d) => d.id !== deviceId);
  if (!others.length) throw new Error('groups: no member has a device that can receive encrypted messages');

  const slot = `sk:${deviceId}:${conversation.id}:${conversation.epoch}`;
  const stored = await readState(slot);
  /** @type {{key: string, given: string[]}} */
  const state = stored && typeof stored.key === 'string' && Array.isArray(stored.given)
    ? { key: stored.key, given: stored.given }
    : { key: b64u(crypto.getRandomValues(new Uint8Array(32))), given: [] };
  // Kept before it is sent: a key given to nobody is harmless, a key given but forgotten is not.
  await writeState(slot, state);
  const missing = others.filter((d) => !state.given.includes(d.id));
  if (missing.length) {
    await sendToDevices(me, deviceId, missing, conversation.id, { kind: 'sender_key', epoch: conversation.epoch, key: state.key });
    state.given.push(...missing.map((d) => d.id));
    await writeState(slot, state);
  }
  const key = /** @type {Uint8Array} */ (unb64u(state.key));
  const sent = await sendGroupMessage(me, deviceId, others.map((d) => d.id), conversation.id, conversation.epoch, key, outgoing);
  return { message_id: sent.message_id, epoch: conversation.epoch, recipients: sent.recipients, keyed: missing.map((d) => d.id) };
}
