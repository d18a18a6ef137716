// The one connection to the media server (docs/sfu.md) of a room that grew past the mesh: the
// browser offers what it sends (one audio and one video transceiver, send-only; the video in
// three simulcast layers, of which the server forwards each receiver the one its link carries), the media
// server answers, and then offers the tracks of the others as they come and go; the browser
// answers those. Each incoming track carries the sender's peer id as its stream id. The media
// server is ICE-lite and answers the browser's checks from any of its addresses, so the offer
// goes out at once, without waiting for candidates. No DOM here.

/**
 * @typedef {import('/client/protocol.js').SignalClient} SignalClient
 * @typedef {import('/live/media.js').LocalMedia} LocalMedia
 */

/**
 * The simulcast layers of the video: a quarter, half and full resolution (rids as docs/sfu.md
 * names them). A shared screen goes on the same sender, so it is sent in the same layers.
 * @type {RTCRtpEncodingParameters[]}
 */
const LAYERS = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/**
 * What the link tells its owner.
 * @typedef {object} SfuLinkEvents
 * @property {(peerId: string, track: MediaStreamTrack, receiver: RTCRtpReceiver) => void} track A track of another participant arrived.
 * @property {() => void} changed The connection's state changed.
 * @property {(sender: RTCRtpSender, kind: 'audio'|'video') => void} [sending] A sender was made (end-to-end encryption attaches to it).
 */

export class SfuLink {
  /**
   * @param {SignalClient} signal
   * @param {LocalMedia} media
   * @param {RTCConfiguration} config ICE servers and policy.
   * @param {SfuLinkEvents} events
   */
  constructor(signal, media, config, events) {
    this.signal = signal;
    this.media = media;
    this.events = events;
    this.pc = new RTCPeerConnection(config);
    /** Offers and answers are handled one after another. @type {Promise<void>} */
    this.queue = Promise.resolve();
    this.closed = false;
    this.pc.ontrack = ({ track, streams, receiver }) => {
      const peerId = streams[0] && streams[0].id;
      if (peerId) events.track(peerId, track, receiver);
    };
    this.pc.onconnectionstatechange = () => events.changed();
  }

  /** Sends the offer: the local microphone and camera (or screen), send-only. */
  async start() {
    for (const kind of /** @type {const} */ (['audio', 'video'])) {
      const track = kind === 'audio' ? this.media.audio : this.media.videoTrack;
      /** @type {RTCRtpTransceiverInit} */
      const init = { direction: 'sendonly', streams: [this.media.stream] };
      if (kind === 'video') init.sendEncodings = LAYERS.map((layer) => ({ ...layer }));
      const transceiver = this.pc.addTransceiver(track || kind, init);
      if (this.events.sending) this.events.sending(transceiver.sender, kind);
    }
    await this.pc.setLocalDescription();
    const sdp = this.pc.localDescription && this.pc.localDescription.sdp;
    if (sdp && !this.closed) this.signal.sendToMediaServer('sfu_offer', sdp);
  }

  /**
   * The media server's answer to the offer.
   * @param {string} sdp
   */
  answered(sdp) {
    this.enqueue(async () => {
      if (this.pc.signalingState !== 'have-local-offer') return;
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    });
  }

  /**
   * The media server's offer (others' tracks added or removed): answered at once.
   * @param {string} sdp
   */
  offered(sdp) {
    this.enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.pc.setLocalDescription();
      const answer = this.pc.localDescription && this.pc.localDescription.sdp;
      if (answer && !this.closed) this.signal.sendToMediaServer('sfu_answer', answer);
    });
  }

  /** Puts the current microphone and camera (or screen) on the senders. */
  mediaChanged() {
    for (const t of this.pc.getTransceivers()) {
      if (t.direction !== 'sendonly') continue;
      const track = t.receiver.track.kind === 'audio' ? this.media.audio : this.media.videoTrack;
      if (t.sender.track !== track) void t.sender.replaceTrack(track).catch(() => {});
    }
  }

  /** @returns {boolean} Whether media flows (ICE and DTLS are up). */
  connected() {
    return this.pc.connectionState === 'connected';
  }

  close() {
    this.closed = true;
    this.pc.close();
  }

  /**
   * @param {() => Promise<void>} step
   * @private
   */
  enqueue(step) {
    this.queue = this.queue.then(() => (this.closed ? undefined : step())).catch((err) => console.warn('media server negotiation failed', err));
  }
}
