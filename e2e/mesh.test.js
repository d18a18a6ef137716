// web/live/rtc.js and web/live/transfer.js in one Chromium page, without the signaling server: two clients
// joined by an in-page loopback that plays the hub (relays `signal`, announces peers). This checks
// the WebRTC side on its own: offers from the newcomer, media both ways, a glare, data channels.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser } from './browser.js';
import { pollUntil } from './office.js';

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser} */
let browser;

before(async () => {
  bureau = await startBureau();
  browser = await openBrowser(bureau);
  await browser.page.goto('/login');
  // Two clients, A and B, over a loopback bus that plays the hub.
  await browser.page.evaluate(async () => {
    const { Mesh } = await import('/live/rtc.js');
    const { LocalMedia } = await import('/live/media.js');
    const { Transfers } = await import('/live/transfer.js');
    class Loopback {
      /** @param {string} peerId @param {string} userId */
      constructor(peerId, userId) {
        this.peerId = peerId;
        this.userId = userId;
        this.iceServers = [];
        this.roomId = '';
        /** @type {Loopback|null} */
        this.other = null;
        /** @type {Map<string, Set<(m: any) => void>>} */
        this.handlers = new Map();
        /** @type {any[]} */
        this.mediaStates = [];
      }
      /** @param {string} type @param {(m: any) => void} fn */
      on(type, fn) {
        if (!this.handlers.has(type)) this.handlers.set(type, new Set());
        /** @type {Set<any>} */ (this.handlers.get(type)).add(fn);
        return () => {};
      }
      /** @param {string} type @param {any} msg */
      emit(type, msg) { for (const fn of this.handlers.get(type) || []) fn(msg); }
      /** @param {string} to @param {any} payload */
      signal(to, payload) {
        const other = /** @type {Loopback} */ (this.other);
        if (to !== other.peerId) throw new Error('unknown peer');
        setTimeout(() => other.emit('signal', { type: 'signal', from_peer: this.peerId, from_user: this.userId, payload }), 0);
        return true;
      }
      /** @param {any} state */
      sendMediaState(state) { this.mediaStates.push(state); return true; }
    }
    const a = new Loopback('peer-a', 'user-a');
    const b = new Loopback('peer-b', 'user-b');
    a.other = b;
    b.other = a;
    const presence = (/** @type {string} */ id) => ({ user_id: id, name: id, status: 'online', in_call: false, location: null, out_of_office: false, deputy_id: null, note: null, peers: [id === 'user-a' ? 'peer-a' : 'peer-b'] });
    const mk = (/** @type {Loopback} */ s) => {
      const media = new LocalMedia();
      const mesh = new Mesh(/** @type {any} */ (s), media);
      /** @type {any[]} */
      const reports = [];
      const transfers = new Transfers(/** @type {any} */ (s), /** @type {any} */ (presence), async (to, kind, size) => { reports.push({ to, kind, size }); });
      return { s, media, mesh, transfers, reports };
    };
    /** @type {any} */ (window).t = { a: mk(a), b: mk(b) };
  });
});
after(async () => {
  if (browser) await browser.close();
  if (bureau) await bureau.stop();
});

/**
 * @param {'a'|'b'} side
 * @returns {Promise<number>}
 */
function frames(side) {
  return browser.page.evaluate(async (s) => {
    const pcs = /** @type {any} */ (window).t[s].mesh.peerConnections;
    let total = 0;
    for (const pc of pcs.values()) (await pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') total += r.framesDecoded || 0; });
    return total;
  }, side);
}

test('the newcomer offers; both receive video; turning the camera off and on keeps the connection', { timeout: 120_000 }, async () => {
  const page = browser.page;
  await page.evaluate(() => {
    const t = /** @type {any} */ (window).t;
    const info = (/** @type {string} */ p, /** @type {string} */ u) => ({ peer_id: p, user_id: u, name: u, media_state: { muted: false, camera: true, screen: false, speaking: false } });
    t.b.s.emit('joined', { type: 'joined', room_id: 'r1', peers: [] });
    t.b.s.emit('peer_joined', { type: 'peer_joined', room_id: 'r1', peer: info('peer-a', 'user-a') });
    t.a.s.emit('joined', { type: 'joined', room_id: 'r1', peers: [info('peer-b', 'user-b')] });
  });
  await pollUntil(page, async () => {
    const t = /** @type {any} */ (window).t;
    for (const side of [t.a, t.b]) {
      let n = 0;
      for (const pc of side.mesh.peerConnections.values()) (await pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0; });
      if (n === 0) return false;
    }
    return true;
  }, null);
  assert.ok(await frames('a') > 0 && await frames('b') > 0);

  // Mute is a disabled track; the media state goes out.
  const state = await page.evaluate(() => {
    const t = /** @type {any} */ (window).t;
    t.a.media.setMuted(true);
    return t.a.s.mediaStates.at(-1);
  });
  assert.equal(state.muted, true);
  // Camera off and on again: the sender's track is swapped without renegotiation.
  await page.evaluate(async () => {
    const t = /** @type {any} */ (window).t;
    await t.a.media.setCamera(false);
    await t.a.media.setCamera(true);
  });
  const before = await frames('b');
  await pollUntil(page, async (min) => {
    const t = /** @type {any} */ (window).t;
    let n = 0;
    for (const pc of t.b.mesh.peerConnections.values()) (await pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0; });
    return n > min + 10;
  }, before);
});

test('an offer collision (both sides renegotiate at once) resolves and video keeps flowing', { timeout: 120_000 }, async () => {
  const page = browser.page;
  const before = await frames('a');
  const states = await page.evaluate(async () => {
    const t = /** @type {any} */ (window).t;
    const [pa] = t.a.mesh.peerConnections.values();
    const [pb] = t.b.mesh.peerConnections.values();
    pa.restartIce();
    pb.restartIce();
    await new Promise((resolve) => {
      const check = () => (pa.signalingState === 'stable' && pb.signalingState === 'stable' && pa.connectionState === 'connected' && pb.connectionState === 'connected'
        ? resolve(undefined) : setTimeout(check, 100));
      setTimeout(check, 300);
    });
    return [pa.signalingState, pb.signalingState];
  });
  assert.deepEqual(states, ['stable', 'stable']);
  await pollUntil(page, async (min) => {
    const t = /** @type {any} */ (window).t;
    let n = 0;
    for (const pc of t.a.mesh.peerConnections.values()) (await pc.getStats()).forEach((/** @type {any} */ r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0; });
    return n > min + 10;
  }, before);
});

test('a message and a file over a data channel between the two', { timeout: 120_000 }, async () => {
  const page = browser.page;
  const result = await page.evaluate(async () => {
    const t = /** @type {any} */ (window).t;
    /** @type {any[]} */
    const seen = [];
    t.b.transfers.onChange((/** @type {string} */ user, /** @type {any} */ e) => seen.push({ user, kind: e.kind, text: e.text, state: e.file && e.file.state }));
    await t.a.transfers.sendMessage('user-b', 'hello b');
    const bytes = new Uint8Array(300 * 1024);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const file = new File([bytes], 'x.bin');
    const entry = await t.a.transfers.sendFile('user-b', file);
    await new Promise((resolve) => {
      const check = () => (entry.file.state === 'sending' ? setTimeout(check, 100) : resolve(undefined));
      check();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { sent: entry.file.state, seen, reports: t.a.reports, received: t.b.reports };
  });
  assert.equal(result.sent, 'verified');
  assert.deepEqual(result.seen.find((/** @type {any} */ e) => e.kind === 'message'), { user: 'user-a', kind: 'message', text: 'hello b', state: undefined });
  assert.equal(result.seen.filter((/** @type {any} */ e) => e.kind === 'file').at(-1).state, 'verified');
  // Only the sender reports, and only metadata: kind and size in bytes.
  assert.deepEqual(result.reports, [{ to: 'user-b', kind: 'message', size: 7 }, { to: 'user-b', kind: 'file', size: 300 * 1024 }]);
  assert.deepEqual(result.received, []);
});
