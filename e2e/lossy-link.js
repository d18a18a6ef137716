// A UDP relay on loopback that makes one browser's link to the media server poor: what the
// server sends to the browser is held to a bit rate (a queue of at most `queueMs` at that rate,
// the rest dropped, as a congested access link does) and loses a share of datagrams at random;
// what the browser sends passes untouched. The test points the browser at the relay by
// rewriting the media server's one ICE candidate in the descriptions it gets (the server is
// ICE-lite and answers checks from any address, so it serves the relay like any other browser).
//
// The relay works as a NAT does: each address the browser sends from (its host candidate, a
// TURN relay, …) gets its own socket towards the server, so that what the server answers goes
// back to the address that asked, whichever candidate pair ICE ends up using.

import dgram from 'node:dgram';

/**
 * How the link from the server to the browser behaves.
 * @typedef {object} LinkShape
 * @property {number} bitsPerSecond The most the link carries.
 * @property {number} loss The share of datagrams lost at random, from 0 to 1.
 * @property {number} [queueMs] How much the link queues, in time at its rate, before it drops
 *   what comes (150 ms).
 */

/**
 * What the relay did with the datagrams the server sent to the browser.
 * @typedef {object} LinkCounts
 * @property {number} forwarded Delivered to the browser.
 * @property {number} lost Dropped at random (the shape's loss).
 * @property {number} overflowed Dropped because the queue was full (the rate).
 * @property {number} upstream Datagrams from the browser passed to the server.
 */

/**
 * @typedef {object} LossyLink
 * @property {number} port The relay's port on 127.0.0.1, for the browser.
 * @property {(shape: LinkShape) => void} reshape Changes the shape from now on.
 * @property {() => LinkCounts} counts Since the relay started.
 * @property {() => Promise<void>} close
 */

/** How often the queue is drained, in ms. */
const TICK_MS = 5;

/**
 * Starts a relay in front of the media server.
 * @param {{host: string, port: number}} server The media server's address.
 * @param {LinkShape} shape
 * @returns {Promise<LossyLink>}
 */
export async function startLossyLink(server, shape) {
  let current = shape;
  /** @type {LinkCounts} */
  const counts = { forwarded: 0, lost: 0, overflowed: 0, upstream: 0 };
  const browserSide = dgram.createSocket('udp4');
  /** One socket towards the server per address the browser sent from. @type {Map<string, dgram.Socket>} */
  const serverSide = new Map();
  /** What waits for the link, in order. @type {{packet: Buffer, address: string, port: number}[]} */
  const queue = [];
  let queuedBits = 0;
  // A token bucket: credit grows with the time that passed at the link's rate, up to a burst
  // of a few milliseconds (at least one full datagram); a datagram leaves when it is covered.
  let credit = 0;
  let last = performance.now();
  const burst = () => Math.max(current.bitsPerSecond * 0.02, 1500 * 8);
  const tick = setInterval(() => {
    const now = performance.now();
    credit = Math.min(credit + current.bitsPerSecond * (now - last) / 1000, burst());
    last = now;
    while (queue.length && credit >= queue[0].packet.length * 8) {
      const item = /** @type {{packet: Buffer, address: string, port: number}} */ (queue.shift());
      credit -= item.packet.length * 8;
      queuedBits -= item.packet.length * 8;
      browserSide.send(item.packet, item.port, item.address);
      counts.forwarded += 1;
    }
  }, TICK_MS);

  /**
   * The socket towards the server for one address of the browser, made on its first datagram
   * (node queues what is sent on it until it is bound).
   * @param {dgram.RemoteInfo} from
   * @returns {dgram.Socket}
   */
  const towardsServer = (from) => {
    const key = `${from.address}:${from.port}`;
    const known = serverSide.get(key);
    if (known) return known;
    const socket = dgram.createSocket('udp4');
    serverSide.set(key, socket);
    socket.on('message', (packet, sender) => {
      if (sender.port !== server.port || sender.address !== server.host) return;
      const bits = packet.length * 8;
      if (Math.random() < current.loss) {
        counts.lost += 1;
      } else if (queuedBits + bits > current.bitsPerSecond * (current.queueMs ?? 150) / 1000) {
        counts.overflowed += 1;
      } else {
        queue.push({ packet, address: from.address, port: from.port });
        queuedBits += bits;
      }
    });
    socket.bind(0, '127.0.0.1');
    return socket;
  };

  browserSide.on('message', (packet, from) => {
    counts.upstream += 1;
    towardsServer(from).send(packet, server.port, server.host);
  });
  await new Promise((resolve) => browserSide.bind(0, '127.0.0.1', () => resolve(undefined)));
  return {
    port: browserSide.address().port,
    reshape: (next) => { current = next; },
    counts: () => ({ ...counts }),
    async close() {
      clearInterval(tick);
      const sockets = [browserSide, ...serverSide.values()];
      await Promise.all(sockets.map((s) => new Promise((done) => s.close(() => done(undefined)))));
    },
  };
}

/**
 * A UDP port on 127.0.0.1 that was free a moment ago (for the media server's `sfu.listen`, so
 * that the test knows where to relay to).
 * @returns {Promise<number>}
 */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * Page script (for `page.addInitScript(pointMediaServerAtRelay, port)`): in every description
 * an ICE-lite party (the media server) gives the page, its host candidates are moved to the
 * relay's port on 127.0.0.1. Runs in the browser: it uses nothing from this module.
 * @param {number} port The relay's.
 * @returns {void}
 */
export function pointMediaServerAtRelay(port) {
  const original = RTCPeerConnection.prototype.setRemoteDescription;
  /**
   * @this {RTCPeerConnection}
   * @param {RTCSessionDescriptionInit} description
   * @param {any[]} rest Legacy callbacks, passed on.
   */
  function setRemoteDescription(description, ...rest) {
    if (description && description.sdp && description.sdp.includes('a=ice-lite')) {
      // `.` stops at the line's \r and `$` matches before it (multiline).
      const sdp = description.sdp.replace(/^(a=candidate:\S+ \d+ udp \d+ )\S+ \d+( typ host.*)$/gmi, (_, head, tail) => `${head}127.0.0.1 ${port}${tail}`);
      description = { type: description.type, sdp };
    }
    return /** @type {(...args: any[]) => Promise<void>} */ (original).call(this, description, ...rest);
  }
  RTCPeerConnection.prototype.setRemoteDescription = /** @type {any} */ (setRemoteDescription);
}
