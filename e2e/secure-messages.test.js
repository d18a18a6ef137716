// End-to-end encrypted messages that wait for an offline device (docs/messaging.md), with
// `web/client/secure-messages.js` in two Chromium profiles against a real `bureau serve`: Bob's
// browser registers its device and he signs out; Ada sends him three texts and a small file
// while he is away; no plaintext is in the server's data folder (a raw scan of every file, the
// SQLite database and its WAL included, which the scan is shown to read: Bob's public key is
// found in it); Bob signs in again on the same profile (also with the remembered device id lost:
// registering again answers 409 and the device is found by its signing key) and his inbox
// gives the four, in order, verified, with their contents, and is empty afterwards (acknowledged
// = deleted on the server). A body or a header changed on the way (the inbox answer rewritten by
// `page.route`) and a replayed message are reported as not verified, never shown as messages.
//
// The page imports the modules from the server it signed in to: the binary's embedded web/
// (after `cargo build`), or web/ from disk with BUREAU_E2E_WEB_DIR=1 while editing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startBureau, filesUnder } from './server.js';
import { openBrowser, signIn, signInBare, signOut, apiFromPage } from './browser.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 120_000 };

/** Distinctive plaintexts, to look for in the data folder. */
const TEXTS = ['Zanzibar quartz plaintext one 7f3a', 'Zanzibar quartz plaintext two 81c2', 'Zanzibar quartz plaintext three 9d04'];
const FILE_NAME = 'quokka-ledger-5e1b.txt';
const FILE = Buffer.from(Array.from({ length: 120 }, (_, i) => `QUOKKA-FILE-PAYLOAD line ${String(i).padStart(3, '0')}\n`).join(''));
const CONVERSATION = 'conv-ada-bob-0001';

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser} */ let browserA;
/** @type {import('./browser.js').Browser} */ let browserB;
/** @type {string} */ let bobDevice;
/** @type {string} */ let adaDevice;
/** @type {string} */ let adaId;
/** @type {string} */ let bobId;
/** @type {any[]} The first inbox answer Bob's browser received, as it came from the server. */
let firstInbox = [];

before(async () => {
  bureau = await startBureau();
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  browserA = await openBrowser(bureau);
  browserB = await openBrowser(bureau);
}, LONG);
after(async () => {
  for (const b of [browserA, browserB]) if (b) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * Runs one call of `secure-messages.js` in the page, as the signed-in user.
 * @param {import('playwright-core').Page} page
 * @param {'ensureDevice'|'sendText'|'sendFile'|'fetchInbox'|'rawInbox'|'me'} op
 * @param {any} [args]
 * @returns {Promise<any>}
 */
function client(page, op, args = {}) {
  return page.evaluate(async ([op, args]) => {
    const sm = await import('/client/secure-messages.js');
    const api = await import('/client/api.js');
    const me = await api.me();
    if (op === 'me') return me.id;
    if (op === 'ensureDevice') return sm.ensureDevice(me);
    if (op === 'fetchInbox') return sm.fetchInbox(me, args.device);
    if (op === 'rawInbox') {
      // The inbox as the server answers it, with the device's proof, without acknowledging.
      return api.deviceInbox(args.device, sm.prover(args.device));
    }
    if (op === 'sendText') return sm.sendDirect(me, args.device, args.to, args.conversation, { kind: 'text', text: args.text });
    if (op === 'sendFile') {
      const data = /** @type {Uint8Array} */ (sm.unb64u(args.data));
      return sm.sendDirect(me, args.device, args.to, args.conversation, { kind: 'file', name: args.name, type: args.type, data });
    }
    throw new Error('unknown op ' + op);
  }, /** @type {[string, any]} */ ([op, args]));
}

test('Bob\'s browser registers its device once, then he signs out', LONG, async () => {
  const bob = browserB.page;
  await signIn(bob, BOB.email, BOB.password);
  bobId = await client(bob, 'me');
  // The live office registers this browser by itself: let it finish first (two registrations of
  // the same keys at once can both succeed; see the note on issue 16).
  await bob.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
  bobDevice = await client(bob, 'ensureDevice');
  assert.match(bobDevice, /^[A-Za-z0-9_-]+$/);
  assert.equal(await client(bob, 'ensureDevice'), bobDevice, 'the same device on a second call');
  const mine = await apiFromPage(bob, 'GET', '/api/me/devices');
  assert.deepEqual(mine.body.devices.map((/** @type {any} */ d) => d.id), [bobDevice]);
  // The keys never leave the browser: only public halves are on the server.
  assert.deepEqual(Object.keys(mine.body.devices[0]).sort(), ['created_at', 'hpke_public', 'id', 'name', 'self_signature', 'sign_public', 'user_id']);
  await signOut(bob);
});

test('Ada sends three texts and a file to offline Bob; the data folder holds none of the plaintexts', LONG, async () => {
  const ada = browserA.page;
  await signIn(ada, ADA.email, ADA.password);
  adaId = await client(ada, 'me');
  await ada.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
  adaDevice = await client(ada, 'ensureDevice');
  let last = 0;
  for (const text of TEXTS) {
    const sent = await client(ada, 'sendText', { device: adaDevice, to: bobId, conversation: CONVERSATION, text });
    assert.deepEqual(sent.recipients, [bobDevice]);
    assert.deepEqual(sent.refused, []);
    assert.ok(sent.counter > last, 'counters increase');
    last = sent.counter;
  }
  const sent = await client(ada, 'sendFile', { device: adaDevice, to: bobId, conversation: CONVERSATION, name: FILE_NAME, type: 'text/plain', data: FILE.toString('base64url') });
  assert.equal(sent.counter, last + 1);

  const needles = [...TEXTS, FILE_NAME, 'QUOKKA-FILE-PAYLOAD', FILE.subarray(0, 48).toString('base64url')].map((s) => Buffer.from(s));
  const files = await filesUnder(bureau.dataDir);
  // The scan does see what is kept in clear: Bob's public signing key (raw bytes, docs/messaging.md).
  const devices = await apiFromPage(ada, 'GET', `/api/users/${bobId}/devices`);
  const bobKey = Buffer.from(devices.body.devices[0].sign_public, 'base64url');
  let keySeen = false;
  for (const file of files) {
    const bytes = await readFile(file);
    keySeen ||= bytes.includes(bobKey);
    for (const needle of needles) assert.ok(!bytes.includes(needle), `${needle} in clear in ${file}`);
  }
  assert.ok(keySeen, `the scan finds a public key in clear among ${files.join(', ')}`);
});

test('Bob signs in again: his inbox gives the four, in order and verified, then nothing', LONG, async () => {
  const bob = browserB.page;
  await signInBare(bob, BOB);
  assert.equal(await client(bob, 'ensureDevice'), bobDevice, 'the same device after signing in again');
  // With the remembered id lost (the keys kept), registering again answers 409 and the device
  // is found in Bob's list by its signing key.
  await bob.evaluate(() => new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase('bureau-messages');
    request.onsuccess = () => resolve(undefined);
    request.onerror = () => reject(request.error);
  }));
  assert.equal(await client(bob, 'ensureDevice'), bobDevice, 'found again after a 409');
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/devices')).body.devices.length, 1);
  // Keeps the server's answer as it came, for the replay below.
  const answered = bob.waitForResponse((r) => r.request().method() === 'GET' && r.url().endsWith(`/api/me/devices/${bobDevice}/inbox`));
  const got = await client(bob, 'fetchInbox', { device: bobDevice });
  firstInbox = (await (await answered).json()).entries;
  assert.equal(firstInbox.length, 4);
  assert.equal(got.length, 4, JSON.stringify(got));
  for (const m of got) {
    assert.equal(m.verified, true, JSON.stringify(m));
    assert.equal(m.from_user, adaId);
    assert.equal(m.from_device, adaDevice);
    assert.equal(m.conversation_id, CONVERSATION);
    assert.equal(typeof m.sent_at, 'number');
  }
  assert.deepEqual(got.slice(0, 3).map((/** @type {any} */ m) => m.content), TEXTS.map((text) => ({ kind: 'text', text })));
  const file = got[3].content;
  assert.deepEqual({ ...file, data: undefined }, { kind: 'file', name: FILE_NAME, type: 'text/plain', size: FILE.length, data: undefined });
  assert.ok(Buffer.from(file.data, 'base64url').equals(FILE), 'the file\'s bytes');
  assert.deepEqual(await client(bob, 'fetchInbox', { device: bobDevice }), [], 'acknowledged messages are gone');
});

test('a changed body, a changed header and a replayed message are reported as not verified', LONG, async () => {
  const ada = browserA.page;
  const bob = browserB.page;
  const texts = ['Tampered body 3b7e', 'Tampered header 44d1', 'Untouched after them 0c9a'];
  for (const text of texts) await client(ada, 'sendText', { device: adaDevice, to: bobId, conversation: CONVERSATION, text });
  // What the server has for Bob's device (read, not acknowledged), changed on the way: the
  // inbox answer the client gets is rewritten (Playwright's own fetch would refuse the
  // self-signed certificate, so the page reads the real answer first).
  const entries = await client(bob, 'rawInbox', { device: bobDevice });
  assert.equal(entries.length, 3);
  const [body, header] = entries;
  const bytes = Buffer.from(body.body, 'base64url');
  bytes[bytes.length - 5] ^= 1;
  body.body = bytes.toString('base64url');
  const parsed = JSON.parse(Buffer.from(header.header, 'base64url').toString('utf8'));
  parsed.sent_at += 1;
  header.header = Buffer.from(JSON.stringify(parsed)).toString('base64url');
  // The first message again, as a server could replay it.
  entries.push(firstInbox[0]);
  await bob.route('**/api/me/devices/*/inbox', (route) => route.fulfill({ json: { entries } }), { times: 1 });
  const got = await client(bob, 'fetchInbox', { device: bobDevice });
  await bob.unroute('**/api/me/devices/*/inbox');
  assert.equal(got.length, 4, JSON.stringify(got));
  assert.deepEqual(got.map((/** @type {any} */ m) => m.verified), [false, false, true, false]);
  assert.match(got[0].reason, /digest/);
  assert.match(got[1].reason, /signature/);
  assert.deepEqual(got[2].content, { kind: 'text', text: texts[2] });
  assert.match(got[3].reason, /counter/);
  for (const m of [got[0], got[1], got[3]]) {
    assert.equal(m.content, undefined, 'nothing of it shown as a message');
    assert.equal(m.claimed_from_user, adaId);
  }
  // Acknowledged too: they do not come back.
  assert.deepEqual(await client(bob, 'fetchInbox', { device: bobDevice }), []);
});
