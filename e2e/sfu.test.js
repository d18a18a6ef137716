// Rooms through Bureau's media server (docs/sfu.md) against a real `bureau serve`, six Chromium
// participants with fake cameras and microphones, the threshold at four:
// - three meet in the mesh; the fourth walking in moves the room to the media server with the
//   call going on, and everyone still sees and hears everyone, now decrypting SFrame;
// - six through the media server: every participant decodes every other's video, hears their
//   audio and sees the same call safety code; mute, camera off and screen sharing reach everyone;
// - the media server cannot see the media: with its test switch (`sfu.record_to`) it writes
//   every frame it forwards; each is SFrame ciphertext after the clear codec header bytes, that
//   only the participants' keys open, and random-looking where the opened frames are not;
// - a participant leaves: the others rotate their keys, and the frames that follow do not open
//   with the keys the leaver held (the test took them from the leaver's page) while earlier
//   frames do;
// - the room shrinks to two below the threshold and goes back to the mesh, the call going on.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, pollUntil } from './office.js';
import { deriveKeySalt, decrypt, parseHeader } from '../web/client/sframe.js';

const LONG = { timeout: 600_000 };
const THRESHOLD = 4;
const PEOPLE = ['Ada', 'Bea', 'Cyd', 'Dan', 'Eve', 'Fay'].map((name) => ({
  name: `${name} Example`, email: `${name.toLowerCase()}@example.test`, password: `${name.toLowerCase()}-long-password`,
}));

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page[]} */
let pages = [];
let roomId = '';
let recording = '';

before(async () => {
  recording = path.join(await mkdtemp(path.join(os.tmpdir(), 'bureau-sfu-')), 'forwarded.bin');
  bureau = await startBureau({ env: { BUREAU_SFU_THRESHOLD: String(THRESHOLD), BUREAU_SFU_RECORD_TO: recording } });
  for (const [i, u] of PEOPLE.entries()) await bureau.createUser({ ...u, admin: i === 0 });
  for (const u of PEOPLE) {
    const b = await openBrowser(bureau);
    browsers.push(b);
    await enterOffice(b.page, u);
  }
  pages = browsers.map((b) => b.page);
  const created = await apiFromPage(pages[0], 'POST', '/api/rooms', { name: 'Assembly', kind: 'meeting', capacity: 20 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  roomId = created.body.id;
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/** @param {import('playwright-core').Page} page */
function enter(page) {
  return page.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), roomId);
}

/** @param {import('playwright-core').Page} page */
function leave(page) {
  return page.evaluate(() => /** @type {any} */ (window).bureau.office.leave());
}

/**
 * Waits until a page gets, through the media server, video frames decoded and audio from at
 * least `senders` others, decrypted by its SFrame worker from as many, with no mesh link left.
 * Stats of senders who left stay in the connection, so callers count the ones present.
 * @param {import('playwright-core').Page} page
 * @param {number} senders
 */
async function waitForSfuMedia(page, senders) {
  await pollUntil(page, async (n) => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    if (mesh.mode !== 'sfu' || !mesh.sfu || !mesh.encryption || mesh.peerConnections.size !== 0) return false;
    let videos = 0;
    let audios = 0;
    (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video' && r.framesDecoded > 0) videos += 1;
      if (r.kind === 'audio' && r.totalAudioEnergy > 0) audios += 1;
    });
    const stats = await mesh.encryption.media.stats();
    const decrypting = Object.values(stats.received).filter((/** @type {any} */ c) => c.video.decrypted > 0 && c.audio.decrypted > 0).length;
    return videos >= n && audios >= n && decrypting >= n;
  }, senders);
}

/**
 * Video frames decoded so far, per sending peer, through the media server.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, number>>}
 */
function framesByPeer(page) {
  return page.evaluate(async () => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    /** @type {Record<string, number>} */
    const out = {};
    if (!mesh.sfu) return out;
    /** @type {Map<string, string>} track id → peer id, from the receivers' streams */
    const peerOfTrack = new Map();
    for (const [peerId, peer] of mesh.peers) for (const t of peer.stream.getTracks()) peerOfTrack.set(t.id, peerId);
    (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
      const peer = peerOfTrack.get(r.trackIdentifier);
      if (peer) out[peer] = r.framesDecoded || 0;
    });
    return out;
  });
}

/** @param {import('playwright-core').Page} page @returns {Promise<string>} */
function peerIdOf(page) {
  return page.evaluate(() => /** @type {any} */ (window).bureau.signal.peerId);
}

/**
 * The frames the media server wrote with its test switch: `[kind 'a'|'v'][u32 length][bytes]`.
 * @returns {Promise<{kind: string, bytes: Uint8Array}[]>}
 */
async function recordedFrames() {
  const data = new Uint8Array(await readFile(recording));
  const frames = [];
  for (let at = 0; at + 5 <= data.length;) {
    const length = new DataView(data.buffer, data.byteOffset + at + 1, 4).getUint32(0);
    if (at + 5 + length > data.length) break;
    frames.push({ kind: String.fromCharCode(data[at]), bytes: data.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

/**
 * Bytes left in clear at the start of a frame (docs/sfu.md): a VP8 key frame (P bit 0) 10, a
 * delta frame 3, Opus 1.
 * @param {{kind: string, bytes: Uint8Array}} frame
 */
function clearLength(frame) {
  if (frame.kind === 'a') return 1;
  return (frame.bytes[0] & 1) === 0 ? 10 : 3;
}

/**
 * Tries to open a recorded frame with base keys (hex) by key id.
 * @param {{kind: string, bytes: Uint8Array}} frame
 * @param {Map<bigint, string[]>} keys
 * @returns {Promise<Uint8Array|null>} The opened frame's payload.
 */
async function open(frame, keys) {
  const clear = clearLength(frame);
  const header = parseHeader(frame.bytes.subarray(clear));
  if (!header) return null;
  for (const hex of keys.get(header.kid) || []) {
    const keySalt = await deriveKeySalt(header.kid, Buffer.from(hex, 'hex'));
    const opened = await decrypt(() => keySalt, frame.bytes.subarray(0, clear), frame.bytes.subarray(clear));
    if (opened) return opened.plaintext;
  }
  return null;
}

/**
 * Pearson's chi-square of byte values against the uniform distribution (255 degrees of
 * freedom: around 255 for random bytes; far above it for structured data).
 * @param {Uint8Array[]} parts
 */
function chiSquare(parts) {
  const counts = new Array(256).fill(0);
  let total = 0;
  for (const p of parts) for (const b of p) { counts[b] += 1; total += 1; }
  const expected = total / 256;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/**
 * The base keys a page's SFrame worker holds, by key id: its own send key and every receive key.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Map<bigint, string[]>>}
 */
async function heldKeys(page) {
  /** @type {{send: {kid: string, baseKey: string}|null, receive: Record<string, Record<string, string>>}} */
  const held = await page.evaluate(() => /** @type {any} */ (window).bureau.mesh.encryption.media.keysForTest());
  /** @type {Map<bigint, string[]>} */
  const keys = new Map();
  const add = (/** @type {string} */ kid, /** @type {string} */ hex) => keys.set(BigInt(kid), [...(keys.get(BigInt(kid)) || []), hex]);
  if (held.send) add(held.send.kid, held.send.baseKey);
  for (const byKid of Object.values(held.receive)) for (const [kid, hex] of Object.entries(byKid)) add(kid, hex);
  return keys;
}

test('three meet in the mesh; the fourth moves the room to the media server and everyone still sees and hears everyone', LONG, async () => {
  const [ada, bea, cyd, dan] = pages;
  for (const page of [ada, bea, cyd]) await enter(page);
  await pollUntil(ada, async () => /** @type {any} */ (window).bureau.peerConnections.size === 2, null);
  assert.equal(await ada.evaluate(() => /** @type {any} */ (window).bureau.mesh.mode), 'mesh');

  await enter(dan);
  for (const page of [ada, bea, cyd, dan]) await waitForSfuMedia(page, 3);
  await ada.locator('#stage .stage-e2ee').getByText('End-to-end encrypted through the media server').waitFor({ timeout: 0 });
  for (const b of browsers.slice(0, 4)) assert.deepEqual(b.errors, []);
});

test('six through the media server: everyone decodes everyone, hears everyone and sees the same safety code; mute, camera off and screen sharing reach all', LONG, async () => {
  const [ada, , , , eve, fay] = pages;
  // Eve's browser may only use relayed candidates: she reaches the media server through
  // Bureau's TURN server.
  await eve.evaluate(() => localStorage.setItem('bureau.iceTransportPolicy', 'relay'));
  await enter(eve);
  await enter(fay);
  for (const page of pages) await waitForSfuMedia(page, 5);
  const eveRoute = await eve.evaluate(async () => {
    const pc = /** @type {any} */ (window).bureau.mesh.sfu.pc;
    /** @type {Map<string, any>} */
    const byId = new Map();
    const stats = await pc.getStats();
    stats.forEach((/** @type {any} */ s) => byId.set(s.id, s));
    let local = '';
    stats.forEach((/** @type {any} */ s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) local = (byId.get(byId.get(s.selectedCandidatePairId)?.localCandidateId) || {}).candidateType || '';
    });
    return { policy: pc.getConfiguration().iceTransportPolicy, local };
  });
  assert.deepEqual(eveRoute, { policy: 'relay', local: 'relay' }, 'Eve reaches the media server through TURN');
  await eve.evaluate(() => localStorage.removeItem('bureau.iceTransportPolicy'));
  const codes = await Promise.all(pages.map((p) => p.evaluate(() => /** @type {any} */ (window).bureau.mesh.encryption.code)));
  assert.match(codes[0], /^\d{4}( \d{4}){4}$/);
  assert.deepEqual(new Set(codes).size, 1, `one safety code for everyone: ${codes.join(' / ')}`);
  await ada.locator('#stage .e2ee-code strong').getByText(codes[0]).waitFor({ timeout: 0 });

  // Ada mutes and turns her camera off: every other tile of Ada shows it.
  await ada.evaluate(async () => {
    const media = /** @type {any} */ (window).bureau.media;
    media.setMuted(true);
    await media.setCamera(false);
  });
  const adaPeer = await peerIdOf(ada);
  for (const page of pages.slice(1)) {
    await page.locator(`#stage .video-tile.muted.no-video[data-peer-id="${adaPeer}"]`).waitFor({ timeout: 0 });
  }
  await ada.evaluate(async () => {
    const media = /** @type {any} */ (window).bureau.media;
    media.setMuted(false);
    await media.setCamera(true);
  });
  // Ada's video comes back for everyone: frames decoded from her grow again.
  const before = await Promise.all(pages.slice(1).map((p) => framesByPeer(p)));
  for (const [i, page] of pages.slice(1).entries()) {
    await pollUntil(page, async ([peer, was]) => {
      const mesh = /** @type {any} */ (window).bureau.mesh;
      const tracks = mesh.peers.get(peer)?.stream.getVideoTracks() || [];
      let frames = 0;
      (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && tracks.some((/** @type {any} */ t) => t.id === r.trackIdentifier)) frames = r.framesDecoded || 0; });
      return frames > was + 10;
    }, [adaPeer, before[i][adaPeer] || 0]);
  }

  // Ada shares her screen: everyone gets it through the media server, wider than the camera
  // (Chromium's fake screen is wider than its 4:3 fake camera), and her tile says so.
  await ada.evaluate(() => /** @type {any} */ (window).bureau.media.setScreen(true));
  for (const page of pages.slice(1)) {
    await page.locator(`#stage .video-tile.screen[data-peer-id="${adaPeer}"]`).waitFor({ timeout: 0 });
    await pollUntil(page, async (peer) => {
      const mesh = /** @type {any} */ (window).bureau.mesh;
      const tracks = mesh.peers.get(peer)?.stream.getVideoTracks() || [];
      let wide = false;
      (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => {
        if (r.type === 'inbound-rtp' && tracks.some((/** @type {any} */ t) => t.id === r.trackIdentifier) && r.frameWidth && r.frameHeight) wide = r.frameWidth / r.frameHeight > 1.4;
      });
      return wide;
    }, adaPeer);
  }
  await ada.evaluate(() => /** @type {any} */ (window).bureau.media.setScreen(false));
  for (const page of pages.slice(1)) await page.locator(`#stage .video-tile.screen[data-peer-id="${adaPeer}"]`).waitFor({ state: 'detached', timeout: 0 });
  for (const b of browsers) assert.deepEqual(b.errors, []);
});

test('the media server cannot see the media: what it forwards is SFrame ciphertext only the participants open', LONG, async () => {
  const frames = await recordedFrames();
  const video = frames.filter((f) => f.kind === 'v');
  const audio = frames.filter((f) => f.kind === 'a');
  assert.ok(video.length > 100 && audio.length > 100, `frames recorded: ${video.length} video, ${audio.length} audio`);
  // Every frame carries an SFrame header right after its clear codec bytes.
  for (const f of frames) assert.ok(parseHeader(f.bytes.subarray(clearLength(f))), 'an SFrame header after the clear bytes');

  // The participants' keys (as of now) open the recent frames; the server holds none of them.
  /** @type {Map<bigint, string[]>} */
  const keys = new Map();
  for (const page of pages) for (const [kid, list] of await heldKeys(page)) keys.set(kid, [...new Set([...(keys.get(kid) || []), ...list])]);
  const recent = video.slice(-60);
  const opened = [];
  for (const f of recent) {
    const plain = await open(f, keys);
    assert.ok(plain, 'a recorded frame opens with a participant\'s key');
    opened.push(plain);
  }
  // What the server has looks random; the same frames opened do not.
  const sealed = recent.map((f) => f.bytes.subarray(clearLength(f) + 2));
  const randomness = chiSquare(sealed);
  const structure = chiSquare(opened);
  assert.ok(randomness < 400, `the forwarded bytes are uniform (chi-square ${randomness.toFixed(0)})`);
  assert.ok(structure > 2 * randomness, `the opened frames are not (chi-square ${structure.toFixed(0)} against ${randomness.toFixed(0)})`);
});

test('a participant leaves: the others rotate their keys and what follows does not open with the keys the leaver kept', LONG, async () => {
  const fay = pages[5];
  const kept = await heldKeys(fay);
  const fayPeer = await peerIdOf(fay);
  const before = (await recordedFrames()).length;
  // Frames of before open with Fay's keys (the control).
  const earlier = (await recordedFrames()).filter((f) => f.kind === 'v').slice(-20);
  let openedEarlier = 0;
  for (const f of earlier) if (await open(f, kept)) openedEarlier += 1;
  assert.ok(openedEarlier > 0, 'the leaver\'s keys open frames of before');

  await leave(fay);
  // Every other sender moves to a newer key id; then their frames are recorded a while.
  for (const page of pages.slice(0, 5)) {
    await pollUntil(page, async (peer) => {
      const held = await /** @type {any} */ (window).bureau.mesh.encryption.media.keysForTest();
      return held.send && BigInt(held.send.kid) >= 1n && !held.receive[peer];
    }, fayPeer);
  }
  // The frames recorded from here on, until enough are under the new keys (bounded: the test's
  // timeout ends it otherwise).
  /** @type {{kind: string, bytes: Uint8Array}[]} */
  let rotated = [];
  while (rotated.length <= 50) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = (await recordedFrames()).slice(before).filter((f) => f.kind === 'v');
    rotated = after.filter((f) => (parseHeader(f.bytes.subarray(clearLength(f)))?.kid ?? 0n) >= 1n);
  }
  assert.ok(rotated.length > 50, `frames under the new keys: ${rotated.length}`);
  for (const f of rotated) assert.equal(await open(f, kept), null, 'the leaver\'s keys do not open what follows');
  // The others' keys do.
  /** @type {Map<bigint, string[]>} */
  const current = new Map();
  for (const page of pages.slice(0, 5)) for (const [kid, list] of await heldKeys(page)) current.set(kid, [...(current.get(kid) || []), ...list]);
  assert.ok(await open(rotated[rotated.length - 1], current), 'the remaining participants open them');
});

test('the room shrinks two below the threshold and goes back to the mesh with the call going on', LONG, async () => {
  const [ada, bea, cyd, dan, eve] = pages;
  for (const page of [cyd, dan, eve]) await leave(page);
  for (const page of [ada, bea]) {
    await pollUntil(page, async () => {
      const bureau = /** @type {any} */ (window).bureau;
      if (bureau.mesh.mode !== 'mesh' || bureau.peerConnections.size !== 1) return false;
      let frames = 0;
      for (const pc of bureau.peerConnections.values()) (await pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
      return frames > 10;
    }, null);
  }
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
