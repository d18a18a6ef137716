// web/client/hpke.js (HPKE, RFC 9180, on WebCrypto) and web/client/device-keys.js in Chromium,
// without Bureau: a tiny static server over web/ (static-web.js) and one page that imports the
// modules by their absolute paths.
//
// The known-answer values are RFC 9180 Appendix A.1.1, "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM" (Base Setup Information, Encryptions, Exported Values), kept in hpke-vectors.json:
// copied by a script from draft-irtf-cfrg-hpke.md of https://github.com/cfrg/draft-irtf-cfrg-hpke
// at commit b1f7cb0cdeab6906c61b3d6574e8bdfdbe1cd3fb, the text published as RFC 9180
// (https://www.rfc-editor.org/rfc/rfc9180#appendix-A.1.1). That repository's test-vectors.json
// is of an earlier draft (other labels, other values) and is not used.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser } from './browser.js';
import { serveWeb } from './static-web.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VECTORS = JSON.parse(await readFile(path.join(HERE, 'hpke-vectors.json'), 'utf8'));

/** @type {{origin: string, close: () => Promise<void>}} */
let server;
/** @type {import('./browser.js').Browser} */
let browser;

/**
 * Loads the modules into a page with helpers: `globalThis.t = {hpke, device, un, hex}`.
 * @param {import('playwright-core').Page} page
 */
async function loadModules(page) {
  await page.goto('/');
  await page.evaluate(async () => {
    const hpke = await import('/client/hpke.js');
    const device = await import('/client/device-keys.js');
    /** @param {string} s */
    const un = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
    /** @param {Uint8Array} b */
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    /** @type {any} */ (globalThis).t = { hpke, device, un, hex };
  });
}

before(async () => {
  server = await serveWeb('hpke');
  // No certificate here: the SPKI list only matters for Bureau's HTTPS address.
  browser = await openBrowser({ baseUrl: server.origin, spki: '' });
  await loadModules(browser.page);
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

test('A.1.1: the key pairs derive from ikmE and ikmR (DeriveKeyPair)', async () => {
  const got = await browser.page.evaluate(async (v) => {
    const { hpke, un, hex } = /** @type {any} */ (globalThis).t;
    /** @param {string} ikm */
    const derive = async (ikm) => {
      const pair = await hpke.deriveKeyPair(un(ikm), { extractable: true });
      const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
      return { pk: hex(await hpke.publicKeyBytes(pair.publicKey)), pkcs8: hex(pkcs8) };
    };
    return { e: await derive(v.ikmE), r: await derive(v.ikmR) };
  }, VECTORS);
  assert.equal(got.e.pk, VECTORS.pkEm);
  assert.equal(got.r.pk, VECTORS.pkRm);
  // The PKCS #8 wrapper of RFC 8410 around the raw private key.
  assert.equal(got.e.pkcs8, '302e020100300506032b656e04220420' + VECTORS.skEm);
  assert.equal(got.r.pkcs8, '302e020100300506032b656e04220420' + VECTORS.skRm);
});

test('A.1.1: Encap and the key schedule give enc, shared_secret, key_schedule_context, secret, key, base_nonce, exporter_secret on both sides', async () => {
  const got = await browser.page.evaluate(async (v) => {
    const { hpke, un, hex } = /** @type {any} */ (globalThis).t;
    const ephemeral = { privateKey: await hpke.importPrivateKey(un(v.skEm)), publicKey: await hpke.importPublicKey(un(v.pkEm)) };
    const sender = await hpke.setupBaseS(await hpke.importPublicKey(un(v.pkRm)), un(v.info), ephemeral);
    // The recipient with its private key alone: its public key (in the KEM context) is recomputed.
    const recipient = await hpke.setupBaseR(un(v.enc), await hpke.importPrivateKey(un(v.skRm)), un(v.info));
    /** @param {any} values */
    const show = (values) => Object.fromEntries(Object.entries(values).map(([k, b]) => [k, hex(b)]));
    return { enc: hex(sender.enc), sender: show(sender.values), recipient: show(recipient.values) };
  }, VECTORS);
  assert.equal(got.enc, VECTORS.enc);
  const expected = {
    sharedSecret: VECTORS.shared_secret,
    keyScheduleContext: VECTORS.key_schedule_context,
    secret: VECTORS.secret,
    key: VECTORS.key,
    baseNonce: VECTORS.base_nonce,
    exporterSecret: VECTORS.exporter_secret,
  };
  assert.deepEqual(got.sender, expected);
  assert.deepEqual(got.recipient, expected);
});

test('A.1.1: encryptions at sequence numbers 0, 1, 2, 4, 255, 256 give the vector\'s nonces and ciphertexts and open back', async () => {
  assert.deepEqual(VECTORS.encryptions.map((/** @type {{seq: number}} */ e) => e.seq), [0, 1, 2, 4, 255, 256]);
  const got = await browser.page.evaluate(async (v) => {
    const { hpke, un, hex } = /** @type {any} */ (globalThis).t;
    const ephemeral = { privateKey: await hpke.importPrivateKey(un(v.skEm)), publicKey: await hpke.importPublicKey(un(v.pkEm)) };
    const recipientKeys = { privateKey: await hpke.importPrivateKey(un(v.skRm)), publicKey: await hpke.importPublicKey(un(v.pkRm)) };
    const { context: sender } = await hpke.setupBaseS(recipientKeys.publicKey, un(v.info), ephemeral);
    const { context: recipient } = await hpke.setupBaseR(un(v.enc), recipientKeys, un(v.info));
    const out = [];
    for (const e of v.encryptions) {
      // 0, 1, 2 and 255, 256 follow each other (Seal and Open move the sequence number on by
      // themselves); the vector skips to 4 and to 255.
      const continued = sender.seq === e.seq && recipient.seq === e.seq;
      sender.seq = e.seq;
      recipient.seq = e.seq;
      const nonce = hex(sender.computeNonce(e.seq));
      const ct = hex(await sender.seal(un(e.aad), un(e.pt)));
      const pt = hex(await recipient.open(un(e.aad), un(e.ct)));
      out.push({ seq: e.seq, continued, nonce, ct, pt, next: [sender.seq, recipient.seq] });
    }
    return out;
  }, VECTORS);
  for (const [i, e] of VECTORS.encryptions.entries()) {
    assert.equal(got[i].nonce, e.nonce, `nonce at ${e.seq}`);
    assert.equal(got[i].ct, e.ct, `ciphertext at ${e.seq}`);
    assert.equal(got[i].pt, e.pt, `plaintext at ${e.seq}`);
    assert.deepEqual(got[i].next, [e.seq + 1, e.seq + 1]);
  }
  assert.deepEqual(got.map((g) => g.continued), [true, true, true, false, false, true]);
});

test('A.1.1: the exported values, from the sender and the recipient', async () => {
  const got = await browser.page.evaluate(async (v) => {
    const { hpke, un, hex } = /** @type {any} */ (globalThis).t;
    const ephemeral = { privateKey: await hpke.importPrivateKey(un(v.skEm)), publicKey: await hpke.importPublicKey(un(v.pkEm)) };
    const { context: sender } = await hpke.setupBaseS(await hpke.importPublicKey(un(v.pkRm)), un(v.info), ephemeral);
    const { context: recipient } = await hpke.setupBaseR(un(v.enc), await hpke.importPrivateKey(un(v.skRm)), un(v.info));
    const out = [];
    for (const x of v.exports) {
      out.push([hex(await sender.export(un(x.exporter_context), x.L)), hex(await recipient.export(un(x.exporter_context), x.L))]);
    }
    return out;
  }, VECTORS);
  assert.equal(VECTORS.exports.length, 3);
  for (const [i, x] of VECTORS.exports.entries()) assert.deepEqual(got[i], [x.exported_value, x.exported_value], `export ${i}`);
});

test('A.1.1: single-shot open (sequence number 0) of the vector\'s first message with the recipient\'s private key', async () => {
  const got = await browser.page.evaluate(async (v) => {
    const { hpke, un, hex } = /** @type {any} */ (globalThis).t;
    const skR = await hpke.importPrivateKey(un(v.skRm));
    /** @param {{aad: string, ct: string}} e */
    const openOnce = (e) => hpke.open(skR, un(v.enc), un(v.info), un(e.aad), un(e.ct)).then(hex, (/** @type {Error} */ err) => err.message);
    return [await openOnce(v.encryptions[0]), await openOnce(v.encryptions[1])];
  }, VECTORS);
  assert.equal(got[0], VECTORS.encryptions[0].pt);
  // The message sealed at sequence number 1 is not a single-shot message.
  assert.match(got[1], /could not be opened/);
});

test('round trip with generated keys; the private key cannot be exported; every seal has its own enc', async () => {
  const got = await browser.page.evaluate(async () => {
    const { hpke, hex } = /** @type {any} */ (globalThis).t;
    const text = new TextEncoder();
    const pair = await hpke.generateKeyPair();
    const publicBytes = await hpke.publicKeyBytes(pair.publicKey);
    // The sender knows only the 32 bytes, as from the server's device list.
    const pk = await hpke.importPublicKey(publicBytes);
    const info = text.encode('bureau-msg-v1');
    const aad = text.encode('{"v":1}');
    const contentKey = crypto.getRandomValues(new Uint8Array(32));
    const a = await hpke.seal(pk, info, aad, contentKey);
    const b = await hpke.seal(pk, info, aad, contentKey);
    const opened = await hpke.open(pair.privateKey, a.enc, info, aad, a.ciphertext);
    const openedWithPair = await hpke.open(pair, b.enc, info, aad, b.ciphertext);
    const exportRefused = await crypto.subtle.exportKey('pkcs8', pair.privateKey).then(() => 'exported', (e) => e.name);
    const jwkRefused = await crypto.subtle.exportKey('jwk', pair.privateKey).then(() => 'exported', (e) => e.name);
    // Empty info, aad and plaintext are valid too: a ciphertext is then the tag alone.
    const none = new Uint8Array(0);
    const sealedEmpty = await hpke.seal(pk, none, none, none);
    const openedEmpty = await hpke.open(pair, sealedEmpty.enc, none, none, sealedEmpty.ciphertext);
    return {
      publicLength: publicBytes.length,
      extractable: pair.privateKey.extractable,
      exportRefused,
      jwkRefused,
      encLength: a.enc.length,
      ctLength: a.ciphertext.length,
      sameEnc: hex(a.enc) === hex(b.enc),
      sameCt: hex(a.ciphertext) === hex(b.ciphertext),
      opened: hex(opened) === hex(contentKey),
      openedWithPair: hex(openedWithPair) === hex(contentKey),
      empty: [sealedEmpty.ciphertext.length, openedEmpty.length],
    };
  });
  assert.equal(got.publicLength, 32);
  assert.equal(got.extractable, false);
  assert.equal(got.exportRefused, 'InvalidAccessError');
  assert.equal(got.jwkRefused, 'InvalidAccessError');
  assert.equal(got.encLength, 32);
  assert.equal(got.ctLength, 32 + 16);
  assert.equal(got.sameEnc, false);
  assert.equal(got.sameCt, false);
  assert.equal(got.opened, true);
  assert.equal(got.openedWithPair, true);
  assert.deepEqual(got.empty, [16, 0]);
});

test('refused: a modified ciphertext or enc, another aad or info, another recipient', async () => {
  const got = await browser.page.evaluate(async () => {
    const { hpke } = /** @type {any} */ (globalThis).t;
    const text = new TextEncoder();
    const pair = await hpke.generateKeyPair();
    const other = await hpke.generateKeyPair();
    const info = text.encode('bureau-msg-v1');
    const aad = text.encode('header');
    const { enc, ciphertext } = await hpke.seal(pair.publicKey, info, aad, text.encode('a content key'));
    /** @param {Uint8Array} bytes @param {number} at */
    const flipped = (bytes, at) => { const copy = new Uint8Array(bytes); copy[at] ^= 1; return copy; };
    /** @param {() => Promise<unknown>} fn */
    const attempt = (fn) => fn().then(() => 'opened', (/** @type {Error} */ e) => e.message);
    return {
      ok: await attempt(() => hpke.open(pair.privateKey, enc, info, aad, ciphertext)),
      firstByte: await attempt(() => hpke.open(pair.privateKey, enc, info, aad, flipped(ciphertext, 0))),
      tag: await attempt(() => hpke.open(pair.privateKey, enc, info, aad, flipped(ciphertext, ciphertext.length - 1))),
      truncated: await attempt(() => hpke.open(pair.privateKey, enc, info, aad, ciphertext.subarray(0, ciphertext.length - 1))),
      enc: await attempt(() => hpke.open(pair.privateKey, flipped(enc, 5), info, aad, ciphertext)),
      aad: await attempt(() => hpke.open(pair.privateKey, enc, info, text.encode('headex'), ciphertext)),
      noAad: await attempt(() => hpke.open(pair.privateKey, enc, info, new Uint8Array(0), ciphertext)),
      info: await attempt(() => hpke.open(pair.privateKey, enc, text.encode('bureau-msg-v2'), aad, ciphertext)),
      recipient: await attempt(() => hpke.open(other.privateKey, enc, info, aad, ciphertext)),
      // The right private key with somebody else's public key: the KEM context differs.
      mixedPair: await attempt(() => hpke.open({ privateKey: pair.privateKey, publicKey: other.publicKey }, enc, info, aad, ciphertext)),
    };
  });
  assert.equal(got.ok, 'opened');
  const refused = 'hpke: the message could not be opened (wrong key, info or aad, or a modified ciphertext)';
  for (const name of ['firstByte', 'tag', 'truncated', 'enc', 'aad', 'noAad', 'info', 'recipient', 'mixedPair']) {
    assert.equal(/** @type {Record<string, string>} */ (got)[name], refused, name);
  }
});

test('inputs are checked: lengths of enc and keys, byte arguments, key types, a low-order enc', async () => {
  const got = await browser.page.evaluate(async () => {
    const { hpke } = /** @type {any} */ (globalThis).t;
    const pair = await hpke.generateKeyPair();
    const signing = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const b = (/** @type {number} */ n) => new Uint8Array(n);
    /** @param {() => Promise<unknown>} fn */
    const attempt = (fn) => fn().then(() => 'accepted', (/** @type {Error} */ e) => e.message);
    return {
      shortEnc: await attempt(() => hpke.open(pair.privateKey, b(31), b(0), b(0), b(16))),
      longEnc: await attempt(() => hpke.open(pair.privateKey, b(33), b(0), b(0), b(16))),
      shortPublic: await attempt(() => hpke.importPublicKey(b(31))),
      longPrivate: await attempt(() => hpke.importPrivateKey(b(33))),
      shortCiphertext: await attempt(async () => hpke.open(pair.privateKey, (await hpke.seal(pair.publicKey, b(0), b(0), b(0))).enc, b(0), b(0), b(15))),
      stringInfo: await attempt(() => hpke.seal(pair.publicKey, 'bureau-msg-v1', b(0), b(1))),
      arrayPlaintext: await attempt(() => hpke.seal(pair.publicKey, b(0), b(0), [1, 2, 3])),
      privateAsRecipient: await attempt(() => hpke.seal(pair.privateKey, b(0), b(0), b(1))),
      publicAsRecipient: await attempt(() => hpke.open(pair.publicKey, b(32), b(0), b(0), b(16))),
      ed25519: await attempt(() => hpke.seal(signing.publicKey, b(0), b(0), b(1))),
      notAKey: await attempt(() => hpke.seal({}, b(0), b(0), b(1))),
      shortIkm: await attempt(() => hpke.deriveKeyPair(b(31))),
      // u = 0 is a point of small order: X25519 gives all zeros, which HPKE must refuse.
      zeroEnc: await attempt(() => hpke.open(pair.privateKey, b(32), b(0), b(0), b(16))),
      exportTooLong: await attempt(async () => (await hpke.setupBaseS(pair.publicKey, b(0))).context.export(b(0), 255 * 32 + 1)),
    };
  });
  assert.deepEqual(got, {
    shortEnc: 'hpke: enc must be 32 bytes, got 31',
    longEnc: 'hpke: enc must be 32 bytes, got 33',
    shortPublic: 'hpke: an X25519 public key is 32 bytes, got 31',
    longPrivate: 'hpke: an X25519 private key is 32 bytes, got 33',
    shortCiphertext: 'hpke: a ciphertext is at least 16 bytes (the tag), got 15',
    stringInfo: 'hpke: info must be a Uint8Array',
    arrayPlaintext: 'hpke: plaintext must be a Uint8Array',
    privateAsRecipient: 'hpke: the recipient public key is a private key, not a public one',
    publicAsRecipient: 'hpke: the recipient private key is a public key, not a private one',
    ed25519: 'hpke: the recipient public key is not X25519 but Ed25519',
    notAKey: 'hpke: the recipient public key is not a CryptoKey',
    shortIkm: 'hpke: ikm must be at least 32 bytes, got 31',
    zeroEnc: 'hpke: X25519 refused the public key (of low order or invalid)',
    exportTooLong: 'hpke: cannot expand to 8161 bytes (at most 8160)',
  });
});

test('sequence numbers never wrap: a context refuses past 2^32 - 1; a failed open does not move on', async () => {
  const got = await browser.page.evaluate(async () => {
    const { hpke } = /** @type {any} */ (globalThis).t;
    const pair = await hpke.generateKeyPair();
    const b = (/** @type {number} */ n) => new Uint8Array(n);
    const { enc, context: sender } = await hpke.setupBaseS(pair.publicKey, b(0));
    const { context: recipient } = await hpke.setupBaseR(enc, pair, b(0));
    sender.seq = hpke.MAX_SEQUENCE;
    recipient.seq = hpke.MAX_SEQUENCE;
    const last = await sender.seal(b(0), b(3));
    const opened = (await recipient.open(b(0), last)).length;
    const after = await sender.seal(b(0), b(3)).then(() => 'sealed', (/** @type {Error} */ e) => e.message);
    const afterOpen = await recipient.open(b(0), last).then(() => 'opened', (/** @type {Error} */ e) => e.message);
    // A failed open does not move the sequence number on.
    const { context: fresh } = await hpke.setupBaseR(enc, pair, b(0));
    await fresh.open(b(1), b(16)).catch(() => {});
    return { max: hpke.MAX_SEQUENCE, opened, after, afterOpen, seqs: [sender.seq, recipient.seq], freshSeq: fresh.seq };
  });
  assert.equal(got.max, 2 ** 32 - 1);
  assert.equal(got.opened, 3);
  assert.equal(got.after, 'hpke: message limit reached (sequence number 4294967296 beyond 4294967295)');
  assert.equal(got.afterOpen, 'hpke: message limit reached (sequence number 4294967296 beyond 4294967295)');
  assert.deepEqual(got.seqs, [2 ** 32, 2 ** 32]);
  assert.equal(got.freshSeq, 0);
});

test('device keys: two tabs asking at once on a new profile end with one key set, stored non-extractable', async () => {
  const second = await browser.context.newPage();
  try {
    await loadModules(second);
    /** @param {import('playwright-core').Page} page */
    const ask = (page) => page.evaluate(async () => {
      const { device, hex } = /** @type {any} */ (globalThis).t;
      // Three concurrent calls in this tab share one load.
      const [a, b, c] = await Promise.all([device.deviceKeys(), device.deviceKeys(), device.deviceKeys()]);
      return {
        same: a === b && b === c,
        hpke: hex(await device.hpkePublicBytes()),
        signing: hex(await device.signingPublicBytes()),
        extractable: [a.hpke.privateKey.extractable, a.signing.privateKey.extractable],
        algorithms: [a.hpke.privateKey.algorithm.name, a.signing.privateKey.algorithm.name],
      };
    });
    const [one, two] = await Promise.all([ask(browser.page), ask(second)]);
    assert.equal(one.same, true);
    assert.equal(two.same, true);
    assert.match(one.hpke, /^[0-9a-f]{64}$/);
    assert.match(one.signing, /^[0-9a-f]{64}$/);
    assert.notEqual(one.hpke, one.signing);
    assert.equal(two.hpke, one.hpke);
    assert.equal(two.signing, one.signing);
    assert.deepEqual(one.extractable, [false, false]);
    assert.deepEqual(one.algorithms, ['X25519', 'Ed25519']);
    const stored = await browser.page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('bureau-device');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        const all = db.transaction('keys', 'readonly').objectStore('keys').getAll();
        all.onsuccess = () => {
          db.close();
          resolve(all.result.map((r) => ({ id: r.id, extractable: [r.hpke.privateKey.extractable, r.signing.privateKey.extractable] })));
        };
        all.onerror = () => reject(all.error);
      };
    }));
    assert.deepEqual(stored, [{ id: 'device', extractable: [false, false] }]);
  } finally {
    await second.close();
  }
});

test('device keys survive a reload; they open what was sealed to them and cannot be exported', async () => {
  const page = browser.page;
  const before = await page.evaluate(async () => {
    const { device, hpke, hex } = /** @type {any} */ (globalThis).t;
    const publicBytes = await device.hpkePublicBytes();
    const sealed = await hpke.seal(await hpke.importPublicKey(publicBytes), new TextEncoder().encode('bureau-msg-v1'), new Uint8Array(0), new TextEncoder().encode('kept'));
    return { hpke: hex(publicBytes), signing: hex(await device.signingPublicBytes()), enc: hex(sealed.enc), ct: hex(sealed.ciphertext) };
  });
  await page.reload();
  await loadModules(page);
  const after = await page.evaluate(async (sealed) => {
    const { device, hpke, un, hex } = /** @type {any} */ (globalThis).t;
    const keys = await device.deviceKeys();
    const opened = await hpke.open(keys.hpke, un(sealed.enc), new TextEncoder().encode('bureau-msg-v1'), new Uint8Array(0), un(sealed.ct));
    /** @param {CryptoKey} key */
    const tryExport = (key) => crypto.subtle.exportKey('pkcs8', key).then(() => 'exported', (/** @type {Error} */ e) => e.name);
    return {
      hpke: hex(await device.hpkePublicBytes()),
      signing: hex(await device.signingPublicBytes()),
      opened: new TextDecoder().decode(opened),
      exports: [await tryExport(keys.hpke.privateKey), await tryExport(keys.signing.privateKey)],
    };
  }, before);
  assert.equal(after.hpke, before.hpke);
  assert.equal(after.signing, before.signing);
  assert.equal(after.opened, 'kept');
  assert.deepEqual(after.exports, ['InvalidAccessError', 'InvalidAccessError']);
});

test('device keys: a signature verifies with the signing public bytes; a modified message, signature or key does not', async () => {
  const got = await browser.page.evaluate(async () => {
    const { device } = /** @type {any} */ (globalThis).t;
    const text = new TextEncoder();
    const message = text.encode('bureau-device-v1 user hpke_public');
    const signature = await device.sign(message);
    const publicBytes = await device.signingPublicBytes();
    /** @param {Uint8Array} bytes @param {number} at */
    const flipped = (bytes, at) => { const copy = new Uint8Array(bytes); copy[at] ^= 1; return copy; };
    const otherKey = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const otherBytes = new Uint8Array(await crypto.subtle.exportKey('raw', otherKey.publicKey));
    return {
      length: signature.length,
      valid: await device.verify(publicBytes, signature, message),
      modifiedMessage: await device.verify(publicBytes, signature, flipped(message, 3)),
      modifiedSignature: await device.verify(publicBytes, flipped(signature, 10), message),
      shortSignature: await device.verify(publicBytes, signature.subarray(0, 63), message),
      otherKey: await device.verify(otherBytes, signature, message),
      badKey: await device.verify(publicBytes.subarray(0, 31), signature, message).then(() => 'accepted', (/** @type {Error} */ e) => e.message),
    };
  });
  assert.deepEqual(got, {
    length: 64,
    valid: true,
    modifiedMessage: false,
    modifiedSignature: false,
    shortSignature: false,
    otherKey: false,
    badKey: 'device keys: an Ed25519 public key is 32 bytes, got 31',
  });
});

test('no page errors', () => {
  assert.deepEqual(browser.errors, []);
});
