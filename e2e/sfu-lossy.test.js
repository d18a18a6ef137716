// A participant on a poor link gets a lower simulcast layer through the media server while the
// others keep the highest (issue #17, docs/sfu.md "Simulcast layers"), against a real
// `bureau serve` and three Chromium participants with fake cameras:
// - Ada, Bea and Cyd meet in a room through the media server (threshold two); each camera is
//   asked for at 960x540, from which Chromium sends all three layers (at 640x480, the fake
//   camera's default, it sends two). Ada and Bea each receive two high layers: before the media
//   server smoothed its layer rates they dropped to the middle layer every few seconds, each
//   time a key frame (which every layer switch and every request of the lossy receiver brings)
//   lifted a high layer's measured rate above their budget for a moment;
// - what the server sends to Cyd goes through a relay on loopback (`lossy-link.js`) that loses
//   a fifth of it: Cyd decodes Ada and Bea in their low layer and keeps decoding, while Ada and
//   Bea decode each other in the sender's highest, 10 s on end;
// - the relay stops losing: Cyd climbs back to the highest layers;
// - the relay holds Cyd's link to 500 kbit/s, less than two middle layers, without random loss:
//   Cyd gets a lower layer of both again (what overflows the relay's queue is lost, as on a
//   real link, so the reported loss may put her there as well as str0m's estimate).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, cameraAt } from './browser.js';
import { enterOffice, enterRoom } from './office.js';
import { startLossyLink, freeUdpPort, pointMediaServerAtRelay } from './lossy-link.js';

const LONG = { timeout: 600_000 };
/** How long the layers may take to settle, each time the test waits for them (a bound, not a
 * measure: it took 5 to 60 s on a machine of two cores running three browsers). */
const SETTLE_MS = 90_000;
/** How long the layers must stay as they should, without a break: the room chooses every
 * 500 ms, and a report of heavy loss holds a receiver low for 5 s after it. */
const HOLD_MS = 10_000;
/** Cyd's link from the media server: lossy, then clean, then slow. */
const LOSSY = { loss: 0.2, bitsPerSecond: 50_000_000 };
const CLEAN = { loss: 0, bitsPerSecond: 50_000_000 };
const SLOW = { loss: 0, bitsPerSecond: 500_000 };
/** The camera every participant asks for: large enough for Chromium's three layers. */
const CAMERA = { width: 960, height: 540 };
const PEOPLE = ['Ada', 'Bea', 'Cyd'].map((name) => ({
  name: `${name} Example`, email: `${name.toLowerCase()}@example.test`, password: `${name.toLowerCase()}-long-password`,
}));

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./lossy-link.js').LossyLink} */
let link;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page[]} */
let pages = [];
/** Peer ids, in the order of PEOPLE. @type {string[]} */
let peerIds = [];

/** @param {string} text */
function log(text) {
  console.log(`${new Date().toISOString().slice(11, 19)} ${text}`);
}

/**
 * Says the screen has four device pixels to the CSS pixel, so that every tile asks the media
 * server for the highest layer (`sfu_layers`, by the tile's size in device pixels): the layer
 * each gets then depends on the link alone (e2e/sfu-tiles.test.js tests the sizes).
 * @returns {void}
 */
function denseScreen() {
  Object.defineProperty(window, 'devicePixelRatio', { get: () => 4 });
}

before(async () => {
  const sfuPort = await freeUdpPort();
  bureau = await startBureau({ env: { BUREAU_SFU_THRESHOLD: '2', BUREAU_SFU_LISTEN: `127.0.0.1:${sfuPort}` } });
  link = await startLossyLink({ host: '127.0.0.1', port: sfuPort }, LOSSY);
  for (const [i, u] of PEOPLE.entries()) await bureau.createUser({ ...u, admin: i === 0 });
  for (const [i, u] of PEOPLE.entries()) {
    // 15 frames a second: three encoders of three layers each share two cores.
    const b = await openBrowser(bureau, { args: ['--use-fake-device-for-media-stream=fps=15'] });
    browsers.push(b);
    await b.page.addInitScript(cameraAt, CAMERA);
    await b.page.addInitScript(denseScreen);
    if (i === 2) await b.page.addInitScript(pointMediaServerAtRelay, link.port);
    await enterOffice(b.page, u);
  }
  pages = browsers.map((b) => b.page);
  peerIds = await Promise.all(pages.map((p) => p.evaluate(() => /** @type {any} */ (window).bureau.signal.peerId)));
  const created = await apiFromPage(pages[0], 'POST', '/api/rooms', { name: 'Corridor', kind: 'meeting', capacity: 10 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const page of pages) await enterRoom(page, created.body.id);
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (link) await link.close();
  if (bureau) await bureau.stop();
});

/**
 * What a page sends and receives through the media server, from its connection's statistics.
 * @typedef {object} Seen
 * @property {string} mode The room's media mode on the page.
 * @property {string} state Of the connection to the media server ('' without one).
 * @property {number} meshLinks Peer connections of the mesh still open.
 * @property {number} remotePort The port of the media server's side of the selected pair.
 * @property {Record<string, {width: number, framesDecoded: number, packetsLost: number, packetsReceived: number, nacks: number, repaired: number}>} received
 *   Inbound video by sender's peer id.
 * @property {Record<string, number>} sent The width of each simulcast layer sent, by rid; 0 for
 *   a layer not sent since the page's last sample (Chromium pauses a layer its uplink or CPU
 *   cannot carry, and goes on reporting its last width).
 * @property {Record<string, number>} kbps What each layer was sent at since the last sample.
 * @property {Record<string, number>} keyFrames Key frames sent of each layer, so far.
 */

/**
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Seen>}
 */
function seen(page) {
  return page.evaluate(async () => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    /** @type {Seen} */
    const out = { mode: mesh.mode, state: mesh.sfu ? mesh.sfu.pc.connectionState : '', meshLinks: mesh.peerConnections.size, remotePort: 0, received: {}, sent: {}, kbps: {}, keyFrames: {} };
    if (!mesh.sfu) return out;
    /** @type {Map<string, string>} track id → peer id */
    const peerOfTrack = new Map();
    for (const [peerId, peer] of mesh.peers) for (const t of peer.stream.getTracks()) peerOfTrack.set(t.id, peerId);
    const stats = await mesh.sfu.pc.getStats();
    /** The layers' counters at the last sample. @type {Record<string, {frames: number, bytes: number, at: number}>} */
    const before = /** @type {any} */ (window).__layersSeen || {};
    /** @type {typeof before} */
    const now = {};
    /** @type {Map<string, any>} */
    const byId = new Map();
    stats.forEach((/** @type {any} */ r) => byId.set(r.id, r));
    stats.forEach((/** @type {any} */ r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        const peer = peerOfTrack.get(r.trackIdentifier);
        if (peer) out.received[peer] = { width: r.frameWidth || 0, framesDecoded: r.framesDecoded || 0, packetsLost: r.packetsLost || 0, packetsReceived: r.packetsReceived || 0, nacks: r.nackCount || 0, repaired: r.retransmittedPacketsReceived || 0 };
      }
      if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid) {
        now[r.rid] = { frames: r.framesEncoded || 0, bytes: r.bytesSent || 0, at: r.timestamp };
        const last = before[r.rid] || { frames: 0, bytes: 0, at: 0 };
        out.sent[r.rid] = now[r.rid].frames > last.frames ? r.frameWidth || 0 : 0;
        out.keyFrames[r.rid] = r.keyFramesEncoded || 0;
        out.kbps[r.rid] = last.at ? Math.round((now[r.rid].bytes - last.bytes) * 8 / (now[r.rid].at - last.at)) : 0;
      }
      if (r.type === 'transport' && r.selectedCandidatePairId) {
        const pair = byId.get(r.selectedCandidatePairId);
        out.remotePort = (pair && byId.get(pair.remoteCandidateId) || {}).port || 0;
      }
    });
    /** @type {any} */ (window).__layersSeen = now;
    return out;
  });
}

/** @param {Seen[]} all @returns {string} */
function describe(all) {
  const name = (/** @type {string} */ id) => PEOPLE[peerIds.indexOf(id)]?.name.split(' ')[0] || id;
  return all.map((s, i) => {
    const received = Object.entries(s.received).map(([peer, r]) => `${name(peer)} ${r.width}px (${r.framesDecoded} frames, ${r.packetsLost}/${r.packetsReceived + r.packetsLost} lost, ${r.nacks} NACKs, ${r.repaired} repaired)`).join(', ');
    const sent = ['l', 'm', 'h'].map((rid) => `${rid} ${s.sent[rid] || 0}px ${s.kbps[rid] || 0} kbit/s ${s.keyFrames[rid] || 0} key frames`).join(', ');
    return `${PEOPLE[i].name.split(' ')[0]} [${s.mode} ${s.state}, ${s.meshLinks} mesh links, server port ${s.remotePort}] sends ${sent}; decodes ${received}`;
  }).join('\n  ') + `\n  relay to Cyd: ${JSON.stringify(link.counts())}`;
}

/**
 * The widest layer a participant sends now.
 * @param {Seen} s
 */
function widest(s) {
  return Math.max(0, ...Object.values(s.sent));
}

/**
 * Polls every page's statistics until `settled` has held of them for `holdMs` without a break
 * (starting within SETTLE_MS), logging what was seen every few seconds and each break; fails
 * with the last of it.
 * @param {string} what
 * @param {(all: Seen[]) => boolean} settled
 * @param {number} holdMs
 * @returns {Promise<{first: Seen[], last: Seen[]}>} The samples at the start and end of the hold.
 */
async function waitFor(what, settled, holdMs) {
  const deadline = Date.now() + SETTLE_MS + holdMs;
  let logged = 0;
  /** @type {{at: number, all: Seen[]}|null} */
  let streak = null;
  for (;;) {
    const all = await Promise.all(pages.map(seen));
    if (settled(all)) {
      streak = streak || { at: Date.now(), all };
      if (Date.now() - streak.at >= holdMs) {
        log(`${what}, for ${holdMs / 1000} s:\n  from ${describe(streak.all)}\n  to ${describe(all)}`);
        return { first: streak.all, last: all };
      }
    } else if (streak) {
      log(`broken after ${(Date.now() - streak.at) / 1000} s: ${what}\n  ${describe(all)}`);
      streak = null;
    }
    if (Date.now() > deadline) assert.fail(`not for ${holdMs / 1000} s on end within ${(SETTLE_MS + holdMs) / 1000} s: ${what}\n  ${describe(all)}`);
    if (Date.now() - logged > 5000) {
      log(`${streak ? 'holds' : 'waiting'}: ${what}\n  ${describe(all)}`);
      logged = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Whether Ada and Bea decode each other in the sender's highest layer, both sending three.
 * @param {Seen[]} all
 */
function healthyAtTop(all) {
  return [[0, 1], [1, 0]].every(([receiver, sender]) => ['l', 'm', 'h'].every((rid) => all[sender].sent[rid] > 0)
    && all[receiver].received[peerIds[sender]]?.width === widest(all[sender]));
}

/**
 * The width Cyd decodes Ada's or Bea's video at, against what that sender sends.
 * @param {Seen[]} all
 * @param {number} sender 0 for Ada, 1 for Bea.
 * @returns {{width: number, lowest: number, highest: number}}
 */
function cydGets(all, sender) {
  const widths = Object.values(all[sender].sent).filter((w) => w > 0);
  return { width: all[2].received[peerIds[sender]]?.width || 0, lowest: Math.min(...widths), highest: widest(all[sender]) };
}

/**
 * Asserts Cyd decoded at least a frame a second of Ada and of Bea between two samples.
 * @param {Seen[]} first
 * @param {Seen[]} last
 * @param {number} ms Between them.
 */
function assertCydDecodes(first, last, ms) {
  for (const sender of [0, 1]) {
    const peer = peerIds[sender];
    const frames = last[2].received[peer].framesDecoded - first[2].received[peer].framesDecoded;
    assert.ok(frames >= ms / 1000, `Cyd decoded ${frames} frames of ${PEOPLE[sender].name} in ${ms / 1000} s`);
  }
}

test('on a link losing a fifth of the packets, Cyd gets the low layer while Ada and Bea keep the highest', LONG, async () => {
  // Everyone is in the room through the media server, with no mesh link left, and decodes
  // both others.
  await waitFor('everyone decodes both others through the media server', (all) => all.every((x) => x.mode === 'sfu'
    && x.state === 'connected' && x.meshLinks === 0 && Object.values(x.received).filter((r) => r.framesDecoded > 0).length === 2), 0);

  // Every receiver starts at the low layers and climbs: what counts is where they stay.
  const { first, last } = await waitFor('Ada and Bea get each other\'s highest of three layers, Cyd the lowest of both', (all) => healthyAtTop(all)
    && [0, 1].every((sender) => { const cyd = cydGets(all, sender); return cyd.width > 0 && cyd.width === cyd.lowest && cyd.width < cyd.highest; }), HOLD_MS);
  assertCydDecodes(first, last, HOLD_MS);
  // The relay carried Cyd's media and lost part of it; the others reach the server directly.
  assert.equal(last[2].remotePort, link.port, 'Cyd reaches the media server through the relay');
  assert.ok(last[0].remotePort !== link.port && last[1].remotePort !== link.port, 'Ada and Bea do not');
  const counts = link.counts();
  assert.ok(counts.lost > counts.forwarded / 10, `the relay lost part of what it carried: ${JSON.stringify(counts)}`);
  for (const b of browsers) assert.deepEqual(b.errors, []);
});

test('the link stops losing: Cyd climbs back to the highest layers', LONG, async () => {
  link.reshape(CLEAN);
  log('the relay no longer loses');
  await waitFor('everyone gets the highest layers', (all) => healthyAtTop(all)
    && [0, 1].every((sender) => { const cyd = cydGets(all, sender); return cyd.width === cyd.highest; }), 5000);
});

test('on a link of 500 kbit/s without random loss, Cyd gets a lower layer while Ada and Bea keep the highest', LONG, async () => {
  link.reshape(SLOW);
  const before = link.counts();
  log('the relay holds the link to 500 kbit/s');
  const { first, last } = await waitFor('Ada and Bea get each other\'s highest layer, Cyd a lower one of both', (all) => healthyAtTop(all)
    && [0, 1].every((sender) => { const cyd = cydGets(all, sender); return cyd.width > 0 && cyd.width < cyd.highest; }), HOLD_MS);
  assertCydDecodes(first, last, HOLD_MS);
  const counts = link.counts();
  assert.equal(counts.lost, before.lost, 'nothing was lost at random');
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
