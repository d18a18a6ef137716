// web/client/sframe.js (SFrame, RFC 9605, on WebCrypto) in Chromium, without Bureau: the static
// server over web/ (static-web.js) and one page that imports the module.
//
// The known-answer values are RFC 9605 Appendix C — every header encoding (C.1) and the SFrame
// encryption of cipher suite AES_128_GCM_SHA256_128, 0x0004 (C.3) — kept in sframe-vectors.json:
// converted by a script from test-vectors/test-vectors.json of https://github.com/sframe-wg/sframe
// at commit 3d07d8ffb23795cd7acc188bd8910dce0c5aa253 (the RFC's source), with KID and CTR as hex
// strings because 64-bit values do not fit a JavaScript number.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser } from './browser.js';
import { serveWeb } from './static-web.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VECTORS = JSON.parse(await readFile(path.join(HERE, 'sframe-vectors.json'), 'utf8'));

/** @type {{origin: string, close: () => Promise<void>}} */
let server;
/** @type {import('./browser.js').Browser} */
let browser;

before(async () => {
  server = await serveWeb('sframe');
  browser = await openBrowser({ baseUrl: server.origin, spki: '' });
  await browser.page.goto('/');
  await browser.page.evaluate(async () => {
    const sframe = await import('/client/sframe.js');
    /** @param {string} s */
    const un = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
    /** @param {Uint8Array} b */
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    /** @type {any} */ (globalThis).t = { sframe, un, hex };
  });
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

test('C.1: every header of the vectors encodes to its bytes and parses back', async () => {
  assert.equal(VECTORS.header.length, 289);
  const wrong = await browser.page.evaluate((headers) => {
    const { sframe, un, hex } = /** @type {any} */ (globalThis).t;
    const out = [];
    for (const h of headers) {
      const [kid, ctr] = [BigInt(h.kid), BigInt(h.ctr)];
      const encoded = hex(sframe.encodeHeader(kid, ctr));
      const parsed = sframe.parseHeader(un(h.encoded + 'ff'));
      if (encoded !== h.encoded || !parsed || parsed.kid !== kid || parsed.ctr !== ctr || parsed.length !== h.encoded.length / 2) {
        out.push({ ...h, encoded, parsed: parsed && { kid: parsed.kid.toString(16), ctr: parsed.ctr.toString(16), length: parsed.length } });
      }
    }
    return out;
  }, VECTORS.header);
  assert.deepEqual(wrong, []);
});

test('C.1: a header cut short does not parse; values beyond 64 bits are refused', async () => {
  const got = await browser.page.evaluate(() => {
    const { sframe, un } = /** @type {any} */ (globalThis).t;
    let refused = '';
    try {
      sframe.encodeHeader(1n << 64n, 0n);
    } catch (err) {
      refused = err instanceof RangeError ? 'RangeError' : String(err);
    }
    return { empty: sframe.parseHeader(new Uint8Array(0)), short: sframe.parseHeader(un('99012345')), refused };
  });
  assert.deepEqual(got, { empty: null, short: null, refused: 'RangeError' });
});

test('C.3: AES_128_GCM_SHA256_128 — key, salt, nonce and ciphertext of the vector, and it opens back', async () => {
  assert.equal(VECTORS.sframe.length, 1);
  const v = VECTORS.sframe[0];
  assert.equal(v.cipher_suite, 4);
  const got = await browser.page.evaluate(async (v) => {
    const { sframe, un, hex } = /** @type {any} */ (globalThis).t;
    const [kid, ctr] = [BigInt(v.kid), BigInt(v.ctr)];
    const keySalt = await sframe.deriveKeySalt(kid, un(v.base_key), true);
    const ct = await sframe.encrypt(keySalt, ctr, un(v.metadata), un(v.pt));
    const keyOf = (/** @type {bigint} */ id) => (id === kid ? keySalt : undefined);
    const opened = await sframe.decrypt(keyOf, un(v.metadata), ct);
    // One bit changed anywhere, or other metadata, and it does not open.
    const flipped = ct.slice();
    flipped[flipped.length - 1] ^= 1;
    return {
      key: hex(new Uint8Array(await crypto.subtle.exportKey('raw', keySalt.key))),
      salt: hex(keySalt.salt),
      nonce: hex(sframe.nonceOf(keySalt.salt, ctr)),
      ct: hex(ct),
      pt: opened && hex(opened.plaintext),
      kid: opened && opened.kid.toString(16),
      changed: await sframe.decrypt(keyOf, un(v.metadata), flipped),
      otherMetadata: await sframe.decrypt(keyOf, un('00'), ct),
      noKey: await sframe.decrypt(() => undefined, un(v.metadata), ct),
    };
  }, v);
  assert.deepEqual({ key: got.key, salt: got.salt, nonce: got.nonce, ct: got.ct }, { key: v.sframe_key, salt: v.sframe_salt, nonce: v.nonce, ct: v.ct });
  assert.equal(got.pt, v.pt);
  assert.equal(got.kid, '123');
  assert.deepEqual([got.changed, got.otherMetadata, got.noKey], [null, null, null]);
  assert.deepEqual(browser.errors, []);
});
