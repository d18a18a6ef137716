// End-to-end encryption of a call's media (docs/sfu.md, "Media encrypted end to end: SFrame"):
// one SFrame worker (sframe-worker.js) per call, set as the encoded transform of every sender
// and receiver of the call's connection, and the keys it holds — this browser's send key and the
// other participants' keys — which come from web/client/call-keys.js. No DOM here.
//
// One MediaEncryption per call: the worker counts CTR per send key, so two workers sending with
// the same key would reuse nonces.

/**
 * @typedef {import('/client/call-keys.js').SendKey} SendKey
 * @typedef {{decrypted: number, failed: number}} ReceiveCounts
 * @typedef {{encrypted: number, withoutKey: number}} SendCounts
 * @typedef {object} EncryptionStats
 * @property {Record<'audio'|'video', SendCounts>} sent Frames encrypted; dropped for want of a key.
 * @property {Record<string, Record<'audio'|'video', ReceiveCounts>>} received Per sender's peer id:
 *   frames decrypted, and dropped because no key opened them.
 * @typedef {object} HeldKeys Hex of the base keys the worker holds, by decimal key id.
 * @property {{kid: string, baseKey: string}|null} send
 * @property {Record<string, Record<string, string>>} receive peer → kid → base key
 */

const WORKER_URL = '/live/sframe-worker.js';

export class MediaEncryption {
  /**
   * Whether this browser can run encoded transforms in a worker.
   * @returns {boolean}
   */
  static supported() {
    return typeof RTCRtpScriptTransform === 'function' && typeof Worker === 'function'
      && typeof RTCRtpSender === 'function' && 'transform' in RTCRtpSender.prototype;
  }

  constructor() {
    /** @private */
    this.worker = new Worker(WORKER_URL, { type: 'module', name: 'sframe' });
    /** @private @type {Map<number, {resolve: (value: any) => void, reject: (err: Error) => void}>} */
    this.pending = new Map();
    /** @private */
    this.nextId = 1;
    this.worker.onmessage = (event) => {
      const { id, ok, value, error } = event.data;
      const waiting = this.pending.get(id);
      if (!waiting) return;
      this.pending.delete(id);
      if (ok) waiting.resolve(value);
      else waiting.reject(new Error(error));
    };
    this.worker.onerror = (event) => {
      // The worker failed to load or crashed: every request waiting fails.
      const err = new Error(`sframe worker: ${event.message || 'failed'}`);
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
  }

  /**
   * Encrypts what a sender sends. Until a send key is set its frames are dropped, never sent clear.
   * @param {RTCRtpSender} sender
   * @param {'audio'|'video'} kind
   */
  attachSender(sender, kind) {
    sender.transform = new RTCRtpScriptTransform(this.worker, { side: 'send', kind });
  }

  /**
   * Decrypts what a receiver receives from one participant.
   * @param {RTCRtpReceiver} receiver
   * @param {'audio'|'video'} kind
   * @param {string} peerId The sending participant's peer id: whose keys open these frames.
   */
  attachReceiver(receiver, kind, peerId) {
    receiver.transform = new RTCRtpScriptTransform(this.worker, { side: 'receive', kind, peer: peerId });
  }

  /**
   * Sends with this key from the next frame on (its counter starts at 0). A key id already sent
   * with is refused.
   * @param {SendKey} key
   * @returns {Promise<void>} Once the worker uses it.
   */
  setSendKey(key) {
    return this.request({ type: 'send-key', kid: key.kid, baseKey: key.baseKey });
  }

  /**
   * Adds a participant's key; their older keys are forgotten a few seconds later.
   * @param {string} peerId
   * @param {SendKey} key
   * @returns {Promise<void>}
   */
  addReceiveKey(peerId, key) {
    return this.request({ type: 'receive-key', peer: peerId, kid: key.kid, baseKey: key.baseKey });
  }

  /**
   * Forgets a participant's keys (they left): their frames no longer decrypt.
   * @param {string} peerId
   * @returns {Promise<void>}
   */
  removePeer(peerId) {
    return this.request({ type: 'remove-peer', peer: peerId });
  }

  /** @returns {Promise<EncryptionStats>} */
  stats() {
    return this.request({ type: 'stats' });
  }

  /**
   * For tests only: the raw base keys the worker holds now (e.g. to show that a participant who
   * left holds nothing that opens frames after a rotation).
   * @returns {Promise<HeldKeys>}
   */
  keysForTest() {
    return this.request({ type: 'keys-for-test' });
  }

  /** Stops the worker: the transforms attached to it pass no frame any more. */
  close() {
    this.worker.terminate();
    const err = new Error('sframe worker: closed');
    for (const waiting of this.pending.values()) waiting.reject(err);
    this.pending.clear();
  }

  /**
   * @private
   * @param {{type: string} & Record<string, unknown>} message
   * @returns {Promise<any>}
   */
  request(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }
}
