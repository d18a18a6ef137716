// Ties a participant's per-call key to one of their registered devices (docs/sfu.md, "Media
// encrypted end to end"): a member signs the per-call public key they announce (`call_pub`) with
// their device's Ed25519 key (device-keys.js), naming the device; the others check the
// signature against that device's signing key in the sender's device list. A server that slips a
// per-call key of its own into a call then has to register a device for the person too, which
// their device list and the safety codes of messaging show. Guests have no devices: their keys
// go unsigned and only the call safety code covers them. No DOM here.
//
// What is signed: the UTF-8 text "bureau-call-pub-v1\n<room id>\n<peer id>\n", then the 32 bytes
// of the per-call public key: a signature for one room and connection does not pass for another.

import { sign, verify } from '/client/device-keys.js';
import { concat } from '/client/hpke.js';
import { b64u, unb64u } from '/client/secure-messages.js';

const LABEL = 'bureau-call-pub-v1';

/**
 * @typedef {import('/client/api.js').DeviceRecord} DeviceRecord
 * @typedef {'device'|'unsigned'|'forged'} KeyCheck `device`: signed by a device of the sender;
 *   `unsigned`: no signature (a guest); `forged`: a signature that does not check out, or names a
 *   device the sender does not have.
 */

/**
 * @param {string} roomId
 * @param {string} peerId The announcing connection.
 * @param {Uint8Array} key The per-call public key.
 * @returns {Uint8Array}
 */
function statement(roomId, peerId, key) {
  return concat(new TextEncoder().encode(`${LABEL}\n${roomId}\n${peerId}\n`), key);
}

/**
 * The fields a member adds to their `call_pub`: the device and its signature.
 * @param {string} deviceId This browser's registered device.
 * @param {string} roomId
 * @param {string} peerId This connection's peer id.
 * @param {Uint8Array} key This browser's per-call public key.
 * @returns {Promise<{device: string, sig: string}>}
 */
export async function signCallKey(deviceId, roomId, peerId, key) {
  return { device: deviceId, sig: b64u(await sign(statement(roomId, peerId, key))) };
}

/**
 * Checks a `call_pub`'s signature against the sender's devices.
 * @param {{device?: unknown, sig?: unknown}} payload
 * @param {DeviceRecord[]} devices The sender's devices, as the server lists them.
 * @param {string} roomId
 * @param {string} peerId The announcing connection.
 * @param {Uint8Array} key The per-call public key announced.
 * @returns {Promise<KeyCheck>}
 */
export async function checkCallKey(payload, devices, roomId, peerId, key) {
  if (payload.device === undefined && payload.sig === undefined) return 'unsigned';
  const device = devices.find((d) => d.id === payload.device);
  const signPublic = device ? unb64u(device.sign_public) : null;
  const signature = unb64u(payload.sig);
  if (!signPublic || signPublic.length !== 32 || !signature) return 'forged';
  return (await verify(signPublic, signature, statement(roomId, peerId, key))) ? 'device' : 'forged';
}
