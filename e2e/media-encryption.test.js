// End-to-end encrypted media in Chromium, without Bureau: web/live/media-encryption.js and its
// SFrame worker (web/live/sframe-worker.js) on real WebRTC connections, and the per-call keys of
// web/client/call-keys.js. One page (the static server of static-web.js), the fake camera and
// microphone, and one sender, Alice, connected over loopback to three receivers (candidates
// passed in the page, no server): Bob holds her key, Carol first a wrong one, Dave none, and Eve
// stands where the media server does — her receiver only records the frames as they arrive, to
// check their layout. Every wait is a bounded polling loop on getStats and the worker's counts,
// followed by assertions on the values it ended with.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser } from './browser.js';
import { serveWeb } from './static-web.js';

/** @type {{origin: string, close: () => Promise<void>}} */
let server;
/** @type {import('./browser.js').Browser} */
let browser;

/**
 * What one receiver has seen: from getStats and from its worker.
 * @typedef {object} Seen
 * @property {number} framesDecoded Video, inbound-rtp.
 * @property {number} audioEnergy inbound-rtp `totalAudioEnergy`.
 * @property {{decrypted: number, failed: number}} video The worker's counts for Alice's video.
 * @property {{decrypted: number, failed: number}} audio The same for her audio.
 */

before(async () => {
  server = await serveWeb('media-encryption');
  // Remote audio plays (and so counts its energy) only in a playing element; no click starts it here.
  browser = await openBrowser({ baseUrl: server.origin, spki: '' }, { args: ['--autoplay-policy=no-user-gesture-required'] });
  await browser.page.goto('/');
  await browser.page.evaluate(async () => {
    const { MediaEncryption } = await import('/live/media-encryption.js');
    const { CallKeys, callSafetyCode } = await import('/client/call-keys.js');
    if (!MediaEncryption.supported()) throw new Error('encoded transforms are not supported');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    const alice = new MediaEncryption();
    /** @type {HTMLAudioElement[]} */
    const players = [];
    // Eve's tap: a worker that keeps the first bytes of the frames her receiver gets (before
    // any decryption: what the media server forwards) and passes none on.
    const tapSource = `
      const frames = { audio: [], video: [] };
      self.onrtctransform = async (event) => {
        const { readable, options } = event.transformer;
        const reader = readable.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          const data = new Uint8Array(value.data);
          const kept = frames[options.kind];
          // Empty ones are RTP packets without payload (padding, same timestamp as the frame
          // before): nothing was encrypted in them, so they are left out.
          if (data.length && kept.length < 300) kept.push({ type: options.kind === 'video' ? value.type : 'audio', length: data.length, head: Array.from(data.subarray(0, 24)) });
        }
      };
      self.onmessage = () => self.postMessage(frames);
    `;
    const tap = new Worker(URL.createObjectURL(new Blob([tapSource], { type: 'text/javascript' })), { type: 'module' });
    /**
     * A connection from Alice to one receiver with its own MediaEncryption (Eve: the tap).
     * @param {string} name
     */
    const link = async (name) => {
      const send = new RTCPeerConnection();
      const receive = new RTCPeerConnection();
      send.onicecandidate = (e) => { if (e.candidate) receive.addIceCandidate(e.candidate); };
      receive.onicecandidate = (e) => { if (e.candidate) send.addIceCandidate(e.candidate); };
      const encryption = new MediaEncryption();
      receive.ontrack = (e) => {
        if (name === 'eve') e.receiver.transform = new RTCRtpScriptTransform(tap, { kind: e.track.kind });
        else encryption.attachReceiver(e.receiver, /** @type {'audio'|'video'} */ (e.track.kind), 'alice');
        if (e.track.kind === 'audio') {
          const player = new Audio();
          player.srcObject = new MediaStream([e.track]);
          player.play();
          players.push(player);
        }
      };
      for (const track of stream.getTracks()) {
        const transceiver = send.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        // The clear bytes of the frame layout are VP8's (docs/sfu.md): the test says so rather
        // than rely on Chromium's default order.
        if (track.kind === 'video') transceiver.setCodecPreferences((RTCRtpSender.getCapabilities('video')?.codecs || []).filter((c) => c.mimeType === 'video/VP8'));
        alice.attachSender(transceiver.sender, /** @type {'audio'|'video'} */ (track.kind));
      }
      await send.setLocalDescription();
      await receive.setRemoteDescription(/** @type {RTCSessionDescription} */ (send.localDescription));
      await receive.setLocalDescription();
      await send.setRemoteDescription(/** @type {RTCSessionDescription} */ (receive.localDescription));
      return { name, send, receive, encryption };
    };
    const receivers = { bob: await link('bob'), carol: await link('carol'), dave: await link('dave'), eve: await link('eve') };
    const tapped = () => new Promise((resolve) => {
      tap.onmessage = (e) => resolve(e.data);
      tap.postMessage(null);
    });
    /** @param {'bob'|'carol'|'dave'} name */
    const seen = async (name) => {
      const r = receivers[name];
      let framesDecoded = 0;
      let audioEnergy = 0;
      (await r.receive.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audioEnergy += s.totalAudioEnergy || 0;
      });
      const counts = (await r.encryption.stats()).received.alice || { video: { decrypted: 0, failed: 0 }, audio: { decrypted: 0, failed: 0 } };
      return { framesDecoded, audioEnergy, video: counts.video, audio: counts.audio };
    };
    /** @param {Uint8Array} b */
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const sframe = await import('/client/sframe.js');
    /** @type {any} */ (globalThis).t = { alice, receivers, seen, tapped, sframe, hex, CallKeys, callSafetyCode, MediaEncryption, players, keys: {} };
  });
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

/**
 * @param {'bob'|'carol'|'dave'} name
 * @returns {Promise<Seen>}
 */
function seen(name) {
  return browser.page.evaluate((n) => /** @type {any} */ (globalThis).t.seen(n), name);
}

/**
 * Polls a receiver (up to 200 × 100 ms) until `done` holds, and gives what it saw last: the
 * caller asserts on it, so a condition never met fails with the values that were reached.
 * @param {'bob'|'carol'|'dave'} name
 * @param {(s: Seen) => boolean} done
 * @returns {Promise<Seen>}
 */
async function waitFor(name, done) {
  let last = await seen(name);
  for (let i = 0; i < 200 && !done(last); i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await seen(name);
  }
  return last;
}

test('Alice sends with key 0: Bob, who holds it, decodes her video and hears her; Carol with a wrong key and Dave with none decode nothing', async () => {
  await browser.page.evaluate(async () => {
    const t = /** @type {any} */ (globalThis).t;
    const key0 = { kid: 0n, baseKey: crypto.getRandomValues(new Uint8Array(16)) };
    t.keys.key0 = key0;
    await t.receivers.bob.encryption.addReceiveKey('alice', key0);
    await t.receivers.carol.encryption.addReceiveKey('alice', { kid: 0n, baseKey: crypto.getRandomValues(new Uint8Array(16)) });
    await t.alice.setSendKey(key0);
  });
  const bob = await waitFor('bob', (s) => s.framesDecoded > 30 && s.audioEnergy > 0);
  assert.ok(bob.framesDecoded > 30, `Bob decoded ${bob.framesDecoded} frames`);
  assert.ok(bob.audioEnergy > 0, `Bob's audio energy ${bob.audioEnergy}`);
  assert.ok(bob.video.decrypted >= bob.framesDecoded, `Bob's worker decrypted ${bob.video.decrypted} video frames for ${bob.framesDecoded} decoded`);
  assert.ok(bob.audio.decrypted > 50, `Bob's worker decrypted ${bob.audio.decrypted} audio frames`);

  const carol = await waitFor('carol', (s) => s.video.failed > 30 && s.audio.failed > 50);
  assert.ok(carol.video.failed > 30 && carol.audio.failed > 50, `Carol's failures: ${JSON.stringify(carol)}`);
  assert.equal(carol.video.decrypted + carol.audio.decrypted, 0);
  assert.equal(carol.framesDecoded, 0);
  assert.equal(carol.audioEnergy, 0);

  const dave = await waitFor('dave', (s) => s.video.failed > 30 && s.audio.failed > 50);
  assert.ok(dave.video.failed > 30 && dave.audio.failed > 50, `Dave's failures: ${JSON.stringify(dave)}`);
  assert.equal(dave.video.decrypted + dave.audio.decrypted, 0);
  assert.equal(dave.framesDecoded, 0);

  const sent = await browser.page.evaluate(() => /** @type {any} */ (globalThis).t.alice.stats());
  assert.ok(sent.sent.video.encrypted > 90 && sent.sent.audio.encrypted > 150, `Alice encrypted ${JSON.stringify(sent.sent)}`);
  assert.deepEqual(browser.errors, []);
});

test('the frames on the wire: VP8 and Opus headers in clear, then the SFrame header (KID 0, a counter never repeated) and room for the tag', async () => {
  /** @typedef {{type: string, length: number, head: number[]}} Tapped */
  /** @type {{audio: Tapped[], video: Tapped[]}} */
  let frames = { audio: [], video: [] };
  for (let i = 0; i < 200; i++) {
    frames = await browser.page.evaluate(() => /** @type {any} */ (globalThis).t.tapped());
    if (frames.audio.length >= 50 && frames.video.filter((f) => f.type === 'key').length >= 2 && frames.video.filter((f) => f.type === 'delta').length >= 20) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const keyFrames = frames.video.filter((f) => f.type === 'key');
  const deltaFrames = frames.video.filter((f) => f.type === 'delta');
  assert.ok(frames.audio.length >= 50 && keyFrames.length >= 2 && deltaFrames.length >= 20, `Eve got ${frames.audio.length} audio, ${keyFrames.length} key and ${deltaFrames.length} delta frames`);
  // A VP8 key frame's 10 clear bytes: the frame tag (bit 0 of byte 0 is 0 for a key frame), the
  // start code 9d 01 2a and the size, 320 × 240 (14 bits each, little-endian).
  for (const f of keyFrames) {
    assert.equal(f.head[0] & 1, 0);
    assert.deepEqual(f.head.slice(3, 6), [0x9d, 0x01, 0x2a]);
    assert.deepEqual([(f.head[6] | (f.head[7] << 8)) & 0x3fff, (f.head[8] | (f.head[9] << 8)) & 0x3fff], [320, 240]);
  }
  for (const f of deltaFrames) assert.equal(f.head[0] & 1, 1);
  // Then the SFrame header, read where the layout puts it: after 10, 3 or 1 clear bytes.
  const headers = await browser.page.evaluate((all) => {
    const { sframe } = /** @type {any} */ (globalThis).t;
    return all.map(({ type, length, head }) => {
      const at = type === 'key' ? 10 : type === 'delta' ? 3 : 1;
      const h = sframe.parseHeader(new Uint8Array(head.slice(at)));
      return h && { kid: h.kid.toString(), ctr: h.ctr.toString(), room: length - at - h.length };
    });
  }, [...frames.video, ...frames.audio]);
  assert.ok(headers.every((h) => h && h.kid === '0' && h.room >= 16), `every frame has an SFrame header of KID 0 and room for the tag: ${JSON.stringify(headers.map((h, i) => [h, [...frames.video, ...frames.audio][i]]).filter(([h]) => !h || h.kid !== '0' || h.room < 16).slice(0, 3))}`);
  const counters = headers.map((h) => BigInt(/** @type {{ctr: string}} */ (h).ctr));
  assert.equal(new Set(counters).size, counters.length, 'a counter was used twice under one key');
  const videoCounters = counters.slice(0, frames.video.length);
  assert.ok(videoCounters.every((c, i) => i === 0 || c > videoCounters[i - 1]), 'the counters of one stream grow');
  assert.deepEqual(browser.errors, []);
});

test('rotation: Alice moves to key 1; Bob, given it, keeps decoding; Carol, who left holding key 0 only, decodes nothing after', async () => {
  // Carol is in the call with the right key first: her frames decode, so what stops later is the rotation.
  await browser.page.evaluate(async () => {
    const t = /** @type {any} */ (globalThis).t;
    await t.receivers.carol.encryption.removePeer('alice');
    await t.receivers.carol.encryption.addReceiveKey('alice', t.keys.key0);
  });
  const carolIn = await waitFor('carol', (s) => s.framesDecoded > 10);
  assert.ok(carolIn.framesDecoded > 10, `Carol decoded ${carolIn.framesDecoded} frames with key 0`);

  // Carol leaves: what she keeps is key 0 of Alice, nothing else.
  const carolKeys = await browser.page.evaluate(() => /** @type {any} */ (globalThis).t.receivers.carol.encryption.keysForTest());
  const key0Hex = await browser.page.evaluate(() => { const t = /** @type {any} */ (globalThis).t; return t.hex(t.keys.key0.baseKey); });
  assert.deepEqual(carolKeys, { send: null, receive: { alice: { 0: key0Hex } } });

  // Alice draws key 1, gives it to Bob (not Carol), then sends with it.
  await browser.page.evaluate(async () => {
    const t = /** @type {any} */ (globalThis).t;
    const key1 = { kid: 1n, baseKey: crypto.getRandomValues(new Uint8Array(16)) };
    t.keys.key1 = key1;
    await t.receivers.bob.encryption.addReceiveKey('alice', key1);
    await t.alice.setSendKey(key1);
  });
  const aliceKeys = await browser.page.evaluate(() => /** @type {any} */ (globalThis).t.alice.keysForTest());
  assert.equal(aliceKeys.send.kid, '1');
  assert.notEqual(aliceKeys.send.baseKey, key0Hex);

  // Carol's failures grow (frames of key 1), then her decoded count stands still while more of
  // them fail, and Bob's keeps growing over the same stretch.
  const carolStart = await seen('carol');
  const carolFailing = await waitFor('carol', (s) => s.video.failed > carolStart.video.failed + 30);
  assert.ok(carolFailing.video.failed > carolStart.video.failed + 30, `Carol's failures after the rotation: ${carolStart.video.failed} → ${carolFailing.video.failed}`);
  const bobBefore = await seen('bob');
  const carolLater = await waitFor('carol', (s) => s.video.failed > carolFailing.video.failed + 30);
  const bobAfter = await waitFor('bob', (s) => s.framesDecoded > bobBefore.framesDecoded + 30);
  assert.ok(carolLater.video.failed > carolFailing.video.failed + 30, `Carol's failures kept growing: ${carolFailing.video.failed} → ${carolLater.video.failed}`);
  assert.equal(carolLater.framesDecoded, carolFailing.framesDecoded, 'Carol decoded frames sent with key 1');
  assert.equal(carolLater.video.decrypted, carolFailing.video.decrypted);
  assert.ok(bobAfter.framesDecoded > bobBefore.framesDecoded + 30, `Bob's frames after the rotation: ${bobBefore.framesDecoded} → ${bobAfter.framesDecoded}`);

  // Key 0 is still in Bob's worker for frames in flight, then forgotten; key 1 stays.
  const bobKeys = await browser.page.evaluate(async () => {
    const t = /** @type {any} */ (globalThis).t;
    for (let i = 0; i < 100; i++) {
      const held = await t.receivers.bob.encryption.keysForTest();
      if (!('0' in held.receive.alice)) return held;
      await new Promise((r) => setTimeout(r, 100));
    }
    return t.receivers.bob.encryption.keysForTest();
  });
  const key1Hex = await browser.page.evaluate(() => { const t = /** @type {any} */ (globalThis).t; return t.hex(t.keys.key1.baseKey); });
  assert.deepEqual(bobKeys.receive, { alice: { 1: key1Hex } });
  assert.deepEqual(browser.errors, []);
});

test('a key id once sent with is refused again: its counter would start over', async () => {
  const error = await browser.page.evaluate(async () => {
    const t = /** @type {any} */ (globalThis).t;
    try {
      await t.alice.setSendKey({ kid: 0n, baseKey: crypto.getRandomValues(new Uint8Array(16)) });
      return '';
    } catch (err) {
      return String(err);
    }
  });
  assert.match(error, /key id 0 was sent with already/);
  const aliceKeys = await browser.page.evaluate(() => /** @type {any} */ (globalThis).t.alice.keysForTest());
  assert.equal(aliceKeys.send.kid, '1');
});

test('CallKeys: a sealed key opens for its recipient in its call only; the call safety code', async () => {
  const got = await browser.page.evaluate(async () => {
    const { CallKeys, callSafetyCode, hex } = /** @type {any} */ (globalThis).t;
    const [ada, ben, cy] = await Promise.all([CallKeys.create(), CallKeys.create(), CallKeys.create()]);
    const k0 = ada.newSendKey();
    const k1 = ada.newSendKey();
    const context = { callId: 'room-1', fromPeer: 'peer-ada', toPeer: 'peer-ben' };
    const sealed = await ada.sealFor(ben.publicBytes(), k1, context);
    const opened = await ben.open(sealed, context);
    /** @param {() => Promise<unknown>} f */
    const refused = async (f) => { try { await f(); return false; } catch { return true; } };
    const otherCall = await refused(() => ben.open(sealed, { ...context, callId: 'room-2' }));
    const otherSender = await refused(() => ben.open(sealed, { ...context, fromPeer: 'peer-cy' }));
    const otherRecipientId = await refused(() => ben.open(sealed, { ...context, toPeer: 'peer-cy' }));
    const otherRecipientKey = await refused(() => cy.open(sealed, context));
    const otherKid = await refused(() => ben.open({ ...sealed, kid: '0' }, context));
    const flipped = { ...sealed, ciphertext: (sealed.ciphertext[0] === 'A' ? 'B' : 'A') + sealed.ciphertext.slice(1) };
    const changed = await refused(() => ben.open(flipped, context));
    const keys = [ada.publicBytes(), ben.publicBytes(), cy.publicBytes()];
    const intruder = await CallKeys.create();
    return {
      kids: [k0.kid.toString(), k1.kid.toString()],
      sentKey: hex(k1.baseKey),
      opened: { kid: opened.kid.toString(), baseKey: hex(opened.baseKey) },
      sealedIsJson: JSON.parse(JSON.stringify(sealed)),
      refused: { otherCall, otherSender, otherRecipientId, otherRecipientKey, otherKid, changed },
      codeAda: await callSafetyCode(keys),
      codeBen: await callSafetyCode([keys[2], keys[0], keys[1]]),
      codeSwapped: await callSafetyCode([keys[0], intruder.publicBytes(), keys[2]]),
      codeFewer: await callSafetyCode([keys[0], keys[1]]),
    };
  });
  assert.deepEqual(got.kids, ['0', '1']);
  assert.deepEqual(got.opened, { kid: '1', baseKey: got.sentKey });
  assert.equal(got.sealedIsJson.v, 1);
  assert.equal(got.sealedIsJson.kid, '1');
  assert.deepEqual(got.refused, { otherCall: true, otherSender: true, otherRecipientId: true, otherRecipientKey: true, otherKid: true, changed: true });
  assert.match(got.codeAda, /^\d{4}( \d{4}){4}$/);
  assert.equal(got.codeBen, got.codeAda);
  assert.notEqual(got.codeSwapped, got.codeAda);
  assert.notEqual(got.codeFewer, got.codeAda);
  assert.deepEqual(browser.errors, []);
});
