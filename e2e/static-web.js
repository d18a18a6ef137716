// A tiny static server over web/ for the browser tests of DOM-free client modules without
// Bureau (hpke.test.js, sframe.test.js): plain HTTP on loopback (a secure context, so WebCrypto
// and IndexedDB work); `/` is an empty page, everything else a `.js` file of web/. The tests
// never depend on the client embedded in the binary.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');

/**
 * Starts the server.
 * @param {string} title The empty page's title.
 * @returns {Promise<{origin: string, close: () => Promise<void>}>}
 */
export function serveWeb(title) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title>`);
      return;
    }
    const file = path.resolve(WEB, '.' + decodeURIComponent(url.pathname));
    if (!file.startsWith(WEB + path.sep) || !file.endsWith('.js')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({
      origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      close: () => new Promise((done) => server.close(() => done(undefined))),
    });
  }));
}
