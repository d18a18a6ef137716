// An HTTP CONNECT proxy on loopback that one browser talks to Bureau through
// (`openBrowser(bureau, {proxy: proxy.url})`), so that a test can pull the network cable:
// `cut()` resets every open connection (the page's HTTPS and its signaling WebSocket; Bureau
// sees them end, as when a laptop loses its network) and refuses new ones until `restore()`.
// Media between browsers goes over UDP directly and does not pass here.

import http from 'node:http';
import net from 'node:net';

/**
 * @typedef {object} Proxy
 * @property {string} url `http://127.0.0.1:PORT`, for `openBrowser`'s `proxy`.
 * @property {() => void} cut Resets every open connection; refuses new ones.
 * @property {() => void} restore Lets connections through again.
 * @property {() => Promise<void>} stop
 */

/**
 * Starts the proxy on a free loopback port. It only tunnels to loopback addresses.
 * @returns {Promise<Proxy>}
 */
export async function startProxy() {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  let down = false;
  /** @param {net.Socket} socket */
  const reset = (socket) => {
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' });
    res.end('CONNECT only\n');
  });
  server.on('connect', (req, client, head) => {
    const socket = /** @type {net.Socket} */ (client);
    const [host, port] = String(req.url).split(':');
    if (down || (host !== '127.0.0.1' && host !== 'localhost')) {
      reset(socket);
      return;
    }
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset on one side resets the other: the connection is gone end to end.
      s.on('error', () => { reset(socket); reset(upstream); });
    }
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const s of [...sockets]) reset(s);
    },
    restore() {
      down = false;
    },
    async stop() {
      for (const s of [...sockets]) s.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
