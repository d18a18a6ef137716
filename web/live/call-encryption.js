// The keys of a call through the media server (docs/sfu.md, "Media encrypted end to end"): this
// browser's per-call key pair (call-keys.js), announced to every other participant over
// signaling (`signal` payloads of kind `call_pub`); its SFrame send key, sealed to each of them
// (`call_key`) and handed to the SFrame worker (media-encryption.js); their keys opened and
// handed to the worker too. When anyone leaves, the send key rotates: the next generation goes to
// those still in the call only, and is sent with a moment later, once they have it. The hub
// relays the payloads and sees only public keys and sealed keys. A member's announcement is
// signed by their device (call-identity.js); one whose signature does not check out is refused.
// No DOM here.

import { CallKeys, callSafetyCode } from '/client/call-keys.js';
import { signCallKey, checkCallKey } from '/client/call-identity.js';
import { MediaEncryption } from '/live/media-encryption.js';

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/client/call-keys.js').SendKey} SendKey
 * @typedef {import('/client/call-keys.js').SealedKey} SealedKey
 * @typedef {import('/client/call-identity.js').KeyCheck} KeyCheck
 * @typedef {import('/client/api.js').DeviceRecord} DeviceRecord
 */

/**
 * Where the devices come from: this browser's registered device (null for a guest, who has
 * none), and a user's devices as the server lists them (null for a guest, who may not ask).
 * @typedef {object} CallIdentity
 * @property {() => Promise<string|null>} device
 * @property {((userId: string) => Promise<DeviceRecord[]>)|null} devicesOf
 */

/** How long a new send key waits after it went out to the others before frames use it. */
const ROTATION_DELAY_MS = 750;

/** @param {Uint8Array} bytes @returns {string} */
function b64u(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {unknown} text @returns {Uint8Array|null} */
function unb64u(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(text)) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export class CallEncryption {
  /**
   * @param {SignalClient} signal
   * @param {string} roomId What sealed keys are bound to, with both peer ids.
   * @param {() => void} changed Called when the safety code changes.
   * @param {CallIdentity|null} identity Devices to sign and check announcements with.
   */
  constructor(signal, roomId, changed, identity) {
    this.signal = signal;
    this.roomId = roomId;
    this.changed = changed;
    this.identity = identity;
    /** How each participant's per-call key was checked, by peer id. @type {Map<string, KeyCheck>} */
    this.checks = new Map();
    /** Users' devices, fetched once per call (again when a signature names one not listed). @type {Map<string, Promise<DeviceRecord[]>>} */
    this.devices = new Map();
    this.media = new MediaEncryption();
    /** Other participants' per-call public keys, by peer id. @type {Map<string, Uint8Array>} */
    this.publicKeys = new Map();
    /** @type {SendKey|null} */
    this.sendKey = null;
    /** The call safety code over every per-call key, '' until there is another participant. */
    this.code = '';
    this.closed = false;
    /** Everything happens in order, after the key pair exists. @type {Promise<CallKeys>} */
    this.keys = CallKeys.create();
    /** @type {Promise<unknown>} */
    this.queue = this.keys.then(async (keys) => {
      this.sendKey = keys.newSendKey();
      await this.media.setSendKey(this.sendKey);
    });
  }

  /**
   * Tells these participants this browser's per-call key (when entering the call).
   * @param {string[]} peerIds
   */
  announce(peerIds) {
    this.enqueue(async (keys) => {
      const pub = await this.ownPub(keys);
      for (const peer of peerIds) this.send(peer, pub);
    });
  }

  /**
   * This browser's `call_pub`: its per-call key, signed by its device when it has one.
   * @param {CallKeys} keys
   * @returns {Promise<object>}
   * @private
   */
  async ownPub(keys) {
    const pub = { kind: 'call_pub', room: this.roomId, key: b64u(keys.publicBytes()) };
    const device = this.identity ? await this.identity.device().catch(() => null) : null;
    if (!device) return pub;
    return { ...pub, ...(await signCallKey(device, this.roomId, this.signal.peerId, keys.publicBytes())) };
  }

  /**
   * How a participant's announced key checks out against their devices.
   * @param {string} fromUser
   * @param {string} fromPeer
   * @param {Uint8Array} key
   * @param {any} payload
   * @returns {Promise<KeyCheck>}
   * @private
   */
  async check(fromUser, fromPeer, key, payload) {
    const devicesOf = this.identity && this.identity.devicesOf;
    // Nothing to check with (a guest's browser), or nothing signed (a guest's key).
    if (!devicesOf || (payload.device === undefined && payload.sig === undefined)) return 'unsigned';
    const listed = () => {
      const devices = devicesOf(fromUser);
      this.devices.set(fromUser, devices);
      // A list that could not be fetched is no evidence of forgery: fetched again next time.
      devices.catch(() => this.devices.delete(fromUser));
      return devices;
    };
    try {
      const known = this.devices.get(fromUser);
      let devices = await (known || listed());
      // A device registered since the list was fetched: fetch it again, once.
      if (known && !devices.some((d) => d.id === payload.device)) devices = await listed();
      return await checkCallKey(payload, devices, this.roomId, fromPeer, key);
    } catch (err) {
      console.warn('the sender\'s devices could not be fetched: their per-call key is not checked', err);
      return 'unsigned';
    }
  }

  /**
   * A `signal` payload of kind `call_pub` or `call_key` from another participant.
   * @param {string} fromPeer
   * @param {string} fromUser
   * @param {any} payload
   */
  received(fromPeer, fromUser, payload) {
    if (!payload || payload.room !== this.roomId) return;
    this.enqueue(async (keys) => {
      if (payload.kind === 'call_pub') {
        const key = unb64u(payload.key);
        if (!key) return;
        const check = await this.check(fromUser, fromPeer, key, payload);
        if (check === 'forged') {
          console.warn(`a per-call key of ${fromPeer} is not signed by a device of its sender: refused`);
          return;
        }
        this.checks.set(fromPeer, check);
        const known = this.publicKeys.get(fromPeer);
        this.publicKeys.set(fromPeer, key);
        // A newcomer (or a participant who connected again, with new keys) announced itself:
        // it learns this browser's key in turn, once.
        const fresh = !known || known.some((b, i) => b !== key[i]);
        if (fresh && !payload.reply) this.send(fromPeer, { ...(await this.ownPub(keys)), reply: true });
        if (this.sendKey) await this.giveKey(keys, fromPeer, this.sendKey);
        await this.updateCode(keys);
      } else if (payload.kind === 'call_key') {
        const sealed = /** @type {SealedKey} */ (payload.sealed);
        try {
          const key = await keys.open(sealed, { callId: this.roomId, fromPeer, toPeer: this.signal.peerId });
          await this.media.addReceiveKey(fromPeer, key);
        } catch (err) {
          console.warn('a call key did not open', err);
        }
      }
    });
  }

  /**
   * A participant left: their keys go, and this browser's send key rotates so that they cannot
   * decrypt what follows.
   * @param {string} peerId
   */
  left(peerId) {
    if (!this.publicKeys.has(peerId)) return;
    this.enqueue(async (keys) => {
      this.publicKeys.delete(peerId);
      this.checks.delete(peerId);
      await this.media.removePeer(peerId);
      const next = keys.newSendKey();
      for (const peer of this.publicKeys.keys()) await this.giveKey(keys, peer, next);
      await new Promise((resolve) => setTimeout(resolve, ROTATION_DELAY_MS));
      if (this.closed) return;
      this.sendKey = next;
      await this.media.setSendKey(next);
      await this.updateCode(keys);
    });
  }

  /** @param {RTCRtpSender} sender @param {'audio'|'video'} kind */
  attachSender(sender, kind) {
    this.media.attachSender(sender, kind);
  }

  /** @param {RTCRtpReceiver} receiver @param {'audio'|'video'} kind @param {string} peerId */
  attachReceiver(receiver, kind, peerId) {
    this.media.attachReceiver(receiver, kind, peerId);
  }

  close() {
    this.closed = true;
    this.media.close();
  }

  /**
   * @param {CallKeys} keys
   * @param {string} peer
   * @param {SendKey} key
   * @private
   */
  async giveKey(keys, peer, key) {
    const recipient = this.publicKeys.get(peer);
    if (!recipient) return;
    const sealed = await keys.sealFor(recipient, key, { callId: this.roomId, fromPeer: this.signal.peerId, toPeer: peer });
    this.send(peer, { kind: 'call_key', room: this.roomId, sealed });
  }

  /** @param {CallKeys} keys @private */
  async updateCode(keys) {
    const code = this.publicKeys.size ? await callSafetyCode([keys.publicBytes(), ...this.publicKeys.values()]) : '';
    if (code !== this.code) {
      this.code = code;
      this.changed();
    }
  }

  /** @param {string} peer @param {object} payload @private */
  send(peer, payload) {
    if (!this.closed) this.signal.signal(peer, payload);
  }

  /** @param {(keys: CallKeys) => Promise<void>} step @private */
  enqueue(step) {
    this.queue = this.queue.then(() => this.keys).then((keys) => (this.closed ? undefined : step(keys)))
      .catch((err) => console.warn('call encryption failed', err));
  }
}
