// The keys of a call through the media server (docs/sfu.md, "Media encrypted end to end"): this
// browser's per-call key pair (call-keys.js), announced to every other participant over
// signaling (`signal` payloads of kind `call_pub`); its SFrame send key, sealed to each of them
// (`call_key`) and handed to the SFrame worker (media-encryption.js); their keys opened and
// handed to the worker too. When anyone leaves, the send key rotates: the next generation goes to
// those still in the call only, and is sent with a moment later, once they have it. The hub
// relays the payloads and sees only public keys and sealed keys. No DOM here.

import { CallKeys, callSafetyCode } from '/client/call-keys.js';
import { MediaEncryption } from '/live/media-encryption.js';

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/client/call-keys.js').SendKey} SendKey
 * @typedef {import('/client/call-keys.js').SealedKey} SealedKey
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
   */
  constructor(signal, roomId, changed) {
    this.signal = signal;
    this.roomId = roomId;
    this.changed = changed;
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
      for (const peer of peerIds) this.send(peer, { kind: 'call_pub', room: this.roomId, key: b64u(keys.publicBytes()) });
    });
  }

  /**
   * A `signal` payload of kind `call_pub` or `call_key` from another participant.
   * @param {string} fromPeer
   * @param {any} payload
   */
  received(fromPeer, payload) {
    if (!payload || payload.room !== this.roomId) return;
    this.enqueue(async (keys) => {
      if (payload.kind === 'call_pub') {
        const key = unb64u(payload.key);
        if (!key) return;
        const known = this.publicKeys.get(fromPeer);
        this.publicKeys.set(fromPeer, key);
        // A newcomer (or a participant who connected again, with new keys) announced itself:
        // it learns this browser's key in turn, once.
        const fresh = !known || known.some((b, i) => b !== key[i]);
        if (fresh && !payload.reply) this.send(fromPeer, { kind: 'call_pub', room: this.roomId, key: b64u(keys.publicBytes()), reply: true });
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
