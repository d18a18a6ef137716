// Rooms through Bureau's media server (docs/sfu.md) against a real `bureau serve`: a room that
// reaches the threshold switches from the mesh to the media server with the call going on, and
// every participant then decodes every other's video and hears their audio through it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, pollUntil } from './office.js';

const LONG = { timeout: 300_000 };
const THRESHOLD = 3;
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

before(async () => {
  bureau = await startBureau({ env: { BUREAU_SFU_THRESHOLD: String(THRESHOLD) } });
  for (const [i, u] of PEOPLE.entries()) await bureau.createUser({ ...u, admin: i === 0 });
  for (const u of PEOPLE.slice(0, 3)) {
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

/**
 * What a page receives through the media server: per sending peer, video frames decoded and
 * audio energy.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{mode: string, meshLinks: number, video: number[], audio: number[]}>}
 */
function sfuStats(page) {
  return page.evaluate(async () => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    /** @type {number[]} */ const video = [];
    /** @type {number[]} */ const audio = [];
    if (mesh.sfu) {
      (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => {
        if (r.type !== 'inbound-rtp') return;
        if (r.kind === 'video') video.push(r.framesDecoded || 0);
        else audio.push(r.totalAudioEnergy || 0);
      });
    }
    return { mode: mesh.mode, meshLinks: mesh.peerConnections.size, video, audio };
  });
}

/**
 * Waits until a page decodes video from `senders` others through the media server, each above
 * `above` frames, hears audio from as many, and has no mesh link left.
 * @param {import('playwright-core').Page} page
 * @param {number} senders
 */
async function waitForSfuMedia(page, senders) {
  await pollUntil(page, async (n) => {
    const mesh = /** @type {any} */ (window).bureau.mesh;
    if (mesh.mode !== 'sfu' || !mesh.sfu || mesh.peerConnections.size !== 0) return false;
    let videos = 0;
    let audios = 0;
    (await mesh.sfu.pc.getStats()).forEach((/** @type {any} */ r) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video' && r.framesDecoded > 0) videos += 1;
      if (r.kind === 'audio' && r.totalAudioEnergy > 0) audios += 1;
    });
    return videos >= n && audios >= n;
  }, senders);
}

test('three walk in: at the threshold the room moves to the media server and everyone still sees and hears everyone', LONG, async () => {
  const [ada, bea, cyd] = pages;
  await ada.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), roomId);
  await bea.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), roomId);
  // Two are a mesh.
  await pollUntil(ada, async () => /** @type {any} */ (window).bureau.peerConnections.size === 1, null);
  assert.equal((await sfuStats(ada)).mode, 'mesh');

  await cyd.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), roomId);
  for (const page of pages) await waitForSfuMedia(page, 2);
  for (const page of pages) {
    const stats = await sfuStats(page);
    assert.equal(stats.mode, 'sfu');
    assert.equal(stats.meshLinks, 0, 'the mesh links of before are closed');
    assert.ok(stats.video.filter((f) => f > 0).length >= 2, JSON.stringify(stats));
  }
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
