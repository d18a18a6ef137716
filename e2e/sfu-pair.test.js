// Two through the media server (issue #17, docs/sfu.md), against a real `bureau serve` and two
// Chromium participants with fake cameras at 960x540 (from which Chromium sends all three
// simulcast layers: 240, 480 and 960 wide):
// - each video comes in the layer that fills its tile: the page tells the media server how large
//   it shows each peer's video (`sfu_layers`). Ada's window is made wide, narrow, then wide
//   again, and the width of Bea's video as Ada's browser decodes it follows the height of Bea's
//   tile (up to 240 device pixels the low layer, up to 480 the middle one);
// - each per-call key is signed by a device of its sender, checked against the sender's device
//   list; a key signed by anything else is refused, and the call goes on with the real one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, cameraAt } from './browser.js';
import { enterOffice, enterRoom, pollUntil } from './office.js';

const LONG = { timeout: 300_000 };
/** How long a layer may take to follow (a bound, not a measure). */
const SETTLE_MS = 60_000;
const CAMERA = { width: 960, height: 540 };
const PEOPLE = ['Ada', 'Bea'].map((name) => ({
  name: `${name} Example`, email: `${name.toLowerCase()}@example.test`, password: `${name.toLowerCase()}-long-password`,
}));

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {string[]} */
let peerIds = [];

before(async () => {
  bureau = await startBureau({ env: { BUREAU_SFU_THRESHOLD: '2' } });
  for (const [i, u] of PEOPLE.entries()) await bureau.createUser({ ...u, admin: i === 0 });
  for (const u of PEOPLE) {
    const b = await openBrowser(bureau, { args: ['--use-fake-device-for-media-stream=fps=15'] });
    browsers.push(b);
    await b.page.addInitScript(cameraAt, CAMERA);
    await enterOffice(b.page, u);
  }
  peerIds = await Promise.all(browsers.map((b) => b.page.evaluate(() => /** @type {any} */ (window).bureau.signal.peerId)));
  const created = await apiFromPage(browsers[0].page, 'POST', '/api/rooms', { name: 'Corridor', kind: 'meeting', capacity: 10 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const b of browsers) await enterRoom(b.page, created.body.id);
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * What Ada's page shows of Bea: her tile's height in device pixels, the width of the frames
 * decoded of her video (0 before any), and the layer the page last asked for.
 * @param {import('playwright-core').Page} page
 * @param {string} peerId
 * @returns {Promise<{tile: number, width: number, asked: string, mode: string}>}
 */
function shownOf(page, peerId) {
  return page.evaluate(async (peerId) => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    const tile = document.querySelector(`#stage .video-tile[data-peer-id="${peerId}"]`);
    const out = { tile: tile ? tile.getBoundingClientRect().height * window.devicePixelRatio : 0, width: 0, asked: mesh.videoLayers.get(peerId) || '', mode: mesh.mode };
    const peer = mesh.peers.get(peerId);
    if (!mesh.sfu || !peer) return out;
    const ids = new Set(peer.stream.getVideoTracks().map((/** @type {MediaStreamTrack} */ t) => t.id));
    const stats = await mesh.sfu.pc.getStats();
    stats.forEach((/** @type {any} */ r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video' && ids.has(r.trackIdentifier) && r.framesDecoded > 0) out.width = r.frameWidth || 0;
    });
    return out;
  }, peerId);
}

/** The width of the layer (of a 960-wide camera) that fills a tile this high, as the page chooses. @param {number} tile */
function widthFor(tile) {
  return tile <= 240 ? 240 : tile <= 480 ? 480 : 960;
}

/**
 * Waits until participant `i` decodes the other's video in the layer that fills its tile on
 * their page; returns what was seen then.
 * @param {number} i
 * @returns {Promise<{tile: number, width: number, asked: string, mode: string}>}
 */
async function decodesToFit(i) {
  const [page, other] = [browsers[i].page, peerIds[1 - i]];
  const deadline = Date.now() + SETTLE_MS;
  let last = await shownOf(page, other);
  while (last.mode !== 'sfu' || last.tile === 0 || last.width !== widthFor(last.tile)) {
    if (Date.now() > deadline) assert.fail(`${PEOPLE[i].name} never decoded the other's video in the layer that fills the tile; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await shownOf(page, other);
  }
  return last;
}

test('a small tile gets the low layer, a larger one a larger layer', LONG, async () => {
  const ada = browsers[0].page;
  // A wide window: a tile of a few hundred pixels (the stage caps its height), a middle or
  // high layer.
  await ada.setViewportSize({ width: 1600, height: 1000 });
  const large = await decodesToFit(0);
  assert.ok(large.tile > 240 && large.width > 240, `a larger tile, a larger layer: ${JSON.stringify(large)}`);
  assert.equal(large.asked, large.width === 960 ? 'h' : 'm');
  // A narrow window: Bea's tile is small, and her video comes in the low layer.
  await ada.setViewportSize({ width: 420, height: 700 });
  const small = await decodesToFit(0);
  assert.ok(small.tile <= 240, `the tile is small: ${JSON.stringify(small)}`);
  assert.equal(small.width, 240);
  assert.equal(small.asked, 'l');
  // Bea, whose window did not change, gets Ada's video as her own tile asks.
  const bea = await decodesToFit(1);
  assert.ok(bea.tile > 240 && bea.width > 240, JSON.stringify(bea));
  // Wide again: back to the larger layer.
  await ada.setViewportSize({ width: 1600, height: 1000 });
  const again = await decodesToFit(0);
  assert.equal(again.width, large.width);
  for (const b of browsers) assert.deepEqual(b.errors, []);
});

test('each per-call key is signed by a device of its sender, and a forged one is refused', LONG, async () => {
  const [ada, bea] = browsers.map((b) => b.page);
  // Both checked the other's key against their devices.
  for (const i of [0, 1]) {
    await pollUntil(browsers[i].page, async (other) => /** @type {any} */ (window).bureau.mesh.encryption?.checks.get(other) === 'device', peerIds[1 - i]);
  }
  const warnings = /** @type {string[]} */ ([]);
  ada.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const codeBefore = await ada.evaluate(() => /** @type {any} */ (window).bureau.mesh.encryption.code);
  // Bea's page announces a key of its own making for Bea's peer, signed by a key that is none of
  // Bea's devices, naming her real device (what a server slipping in a key would have to do).
  const forged = await bea.evaluate(async ({ adaPeer, roomId }) => {
    const w = /** @type {any} */ (window);
    const device = await w.bureau.office.mailbox.device();
    const key = crypto.getRandomValues(new Uint8Array(32));
    const signer = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']));
    const label = new TextEncoder().encode(`bureau-call-pub-v1\n${roomId}\n${w.bureau.signal.peerId}\n`);
    const signed = new Uint8Array([...label, ...key]);
    const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', signer.privateKey, signed));
    /** @param {Uint8Array} b */
    const b64u = (b) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    w.bureau.signal.signal(adaPeer, { kind: 'call_pub', room: roomId, key: b64u(key), device, sig: b64u(sig), reply: true });
    return b64u(key);
  }, { adaPeer: peerIds[0], roomId: await ada.evaluate(() => /** @type {any} */ (window).bureau.mesh.roomId) });
  const deadline = Date.now() + 30_000;
  while (!warnings.some((w) => w.includes('not signed by a device of its sender'))) {
    if (Date.now() > deadline) assert.fail(`Ada never refused the forged key; warnings: ${JSON.stringify(warnings)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const after = await ada.evaluate((bea) => {
    const enc = /** @type {any} */ (window).bureau.mesh.encryption;
    const key = enc.publicKeys.get(bea);
    return { key: btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), code: enc.code, check: enc.checks.get(bea) };
  }, peerIds[1]);
  assert.notEqual(after.key, forged, 'the forged key is not taken');
  assert.equal(after.code, codeBefore, 'the safety code stays');
  assert.equal(after.check, 'device');
  // The call goes on: Ada still decodes Bea.
  await decodesToFit(0);
});
