// Calls against a real `bureau serve`, the outcomes ui.test.js plays with a scripted hub and
// more: the callee declines; the callee is busy (do not disturb, or in another call); the caller
// cancels; nobody answers until the ring timeout; screen sharing; choosing another microphone and
// camera; who is speaking; and the network of one side dropping in the middle of a call.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { startProxy } from './proxy.js';
import {
  enterOffice, agreeToConsent, waitPresence, callAndAccept, waitForFrames, peerStats, pollUntil, ring, callControls, setPresence,
} from './office.js';

const ALICE = { email: 'alice@example.test', name: 'Alice Ball', password: 'chaulmoogra-oil', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 180_000 };
// A ring nobody answers ends after this many seconds (the product's default is 30); every other
// ring here is answered or ended by a click well within it.
const RING_TIMEOUT_SECS = 10;

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./proxy.js').Proxy} */
let proxy;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let alice;
/** @type {import('playwright-core').Page} */ let bob;
/** @type {import('playwright-core').Page} */ let carol;

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3, env: { BUREAU_SIGNAL_RING_TIMEOUT_SECS: String(RING_TIMEOUT_SECS) } });
  for (const u of [ALICE, BOB, CAROL]) await bureau.createUser(u);
  proxy = await startProxy();
  browsers.push(await openBrowser(bureau));
  // Bob's browser reaches Bureau through the proxy (to cut his network) and has three cameras.
  browsers.push(await openBrowser(bureau, { proxy: proxy.url, args: ['--use-fake-device-for-media-stream=device-count=3'] }));
  browsers.push(await openBrowser(bureau));
  [alice, bob, carol] = browsers.map((b) => b.page);
  await enterOffice(alice, ALICE);
  await enterOffice(bob, BOB);
  await enterOffice(carol, CAROL);
  await waitPresence(alice, BOB.name, 'online');
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (proxy) await proxy.stop();
  if (bureau) await bureau.stop();
});
// A test that fails half-way must not leave a call, a ring, a status or a cut network behind;
// a page left with a dialog open or without consent starts afresh.
afterEach(async () => {
  proxy.restore();
  for (const page of [alice, bob, carol]) {
    const clean = await page.evaluate(() => {
      const office = /** @type {any} */ (window).bureau.office;
      if (office.call && office.call.dir === 'in' && office.call.state === 'ringing') office.answer(false);
      office.hangUp();
      office.dismissCall();
      office.signal.setPresence({ status: 'online' });
      return !document.querySelector('dialog[open]') && Boolean(localStorage.getItem('bureau.consent'));
    });
    if (clean) continue;
    await page.reload();
    await page.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 30_000 });
    if (!await page.evaluate(() => localStorage.getItem('bureau.consent'))) await agreeToConsent(page);
  }
  for (const page of [alice, bob, carol]) await page.locator('#stage').waitFor({ state: 'hidden', timeout: 30_000 });
});

/**
 * The caller's view of an outgoing call (ringing, or its outcome).
 * @param {import('playwright-core').Page} page
 * @returns {import('playwright-core').Locator}
 */
function outgoing(page) {
  return page.locator('#stage .outgoing');
}

/**
 * The incoming call dialog.
 * @param {import('playwright-core').Page} page
 * @returns {import('playwright-core').Locator}
 */
function ringDialog(page) {
  return page.getByRole('dialog', { name: 'Incoming call' });
}

/**
 * Dismisses the outcome of an outgoing call; the stage goes away.
 * @param {import('playwright-core').Page} page
 */
async function dismiss(page) {
  await outgoing(page).getByRole('button', { name: 'Dismiss' }).click();
  await page.locator('#stage').waitFor({ state: 'hidden' });
}

/**
 * Leaves the call from the stage and waits until the other side's stage is gone too.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Page} other
 */
async function hangUp(page, other) {
  await callControls(page).getByRole('button', { name: 'Leave' }).click();
  for (const p of [page, other]) await p.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
}

/**
 * The tile of the (one) other participant on the page's stage.
 * @param {import('playwright-core').Page} page
 * @returns {import('playwright-core').Locator}
 */
function remoteTile(page) {
  return page.locator('#stage .video-tile:not(.self)');
}

/**
 * In the page: the width/height of the remote participant's video as the page shows it.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<number>} 0 until a frame is shown.
 */
function remoteAspect(page) {
  return page.evaluate(() => {
    const v = /** @type {HTMLVideoElement|null} */ (document.querySelector('#stage .video-tile:not(.self) video'));
    return v && v.videoHeight ? v.videoWidth / v.videoHeight : 0;
  });
}

/**
 * Waits until the remote video's aspect ratio is above (or below) `ratio`.
 * @param {import('playwright-core').Page} page
 * @param {'above'|'below'} side
 * @param {number} ratio
 */
async function waitAspect(page, side, ratio) {
  for (;;) {
    const aspect = await remoteAspect(page);
    if (aspect && (side === 'above' ? aspect > ratio : aspect < ratio)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * In the page: the ids of the tracks its (one) peer connection sends, by kind.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{audio: string, video: string, mic: string, camera: string, micDevice: string, cameraDevice: string}>}
 *   What is sent, what the page's media holds, and the devices those come from.
 */
function sending(page) {
  return page.evaluate(() => {
    const b = /** @type {any} */ (window).bureau;
    const pc = /** @type {RTCPeerConnection} */ ([...b.peerConnections.values()][0]);
    const out = { audio: '', video: '', mic: '', camera: '', micDevice: '', cameraDevice: '' };
    for (const sender of pc ? pc.getSenders() : []) if (sender.track) out[/** @type {'audio'|'video'} */ (sender.track.kind)] = sender.track.id;
    const m = b.media;
    if (m.audio) Object.assign(out, { mic: m.audio.id, micDevice: m.audio.getSettings().deviceId });
    if (m.camera) Object.assign(out, { camera: m.camera.id, cameraDevice: m.camera.getSettings().deviceId });
    return out;
  });
}

test('the callee declines with the Decline button; the caller is told and nobody is in a call', LONG, async () => {
  await ring(alice, BOB.name);
  await outgoing(alice).getByText(`Ringing… ${BOB.name}`).waitFor({ timeout: 0 });
  const dialog = ringDialog(bob);
  await dialog.getByText(`${ALICE.name} is calling you.`).waitFor({ timeout: 0 });
  await dialog.getByRole('button', { name: 'Decline' }).click();
  await dialog.waitFor({ state: 'detached' });
  await outgoing(alice).getByText(`${BOB.name} declined the call.`).waitFor({ timeout: 0 });
  assert.equal(await outgoing(alice).getAttribute('data-call-state'), 'declined');
  await dismiss(alice);
  await waitPresence(carol, BOB.name, 'online');
  await waitPresence(carol, ALICE.name, 'online');
  assert.equal(await bob.locator('#stage').isHidden(), true, 'the callee has no stage');
});

test('do not disturb leaves a note to call back; a colleague in another call is busy', LONG, async () => {
  await setPresence(bob, { status: 'dnd' });
  await waitPresence(alice, BOB.name, 'dnd');
  await ring(alice, BOB.name);
  await outgoing(alice).getByText(`${BOB.name} does not want to be disturbed: nothing rang, they will see that you knocked.`).waitFor({ timeout: 0 });
  assert.equal(await ringDialog(bob).count(), 0, 'do not disturb: nothing rings');
  const notes = bob.getByRole('region', { name: 'Missed knocks' });
  await notes.getByText(`${ALICE.name} knocked at`).waitFor({ timeout: 0 });
  await notes.getByRole('button', { name: `Dismiss the knock of ${ALICE.name}` }).click();
  await notes.waitFor({ state: 'detached' });
  await dismiss(alice);
  await setPresence(bob, { status: 'online' });
  await waitPresence(alice, BOB.name, 'online');

  await callAndAccept(carol, bob, BOB.name, CAROL.name);
  await waitPresence(alice, BOB.name, 'in_call');
  await ring(alice, BOB.name);
  await outgoing(alice).getByText(`${BOB.name} is busy.`).waitFor({ timeout: 0 });
  assert.equal(await ringDialog(bob).count(), 0, 'in a call: nothing rings');
  await dismiss(alice);
  // Bob's call with Carol went on meanwhile.
  await waitForFrames(bob, 1);
  await hangUp(carol, bob);
  await waitPresence(alice, BOB.name, 'online');
});

test('the caller cancels while it rings; the ring stops and Bob can be called again', LONG, async () => {
  await ring(alice, BOB.name);
  const dialog = ringDialog(bob);
  await dialog.getByText(`${ALICE.name} is calling you.`).waitFor({ timeout: 0 });
  await outgoing(alice).getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached', timeout: 0 });
  await alice.locator('#stage').waitFor({ state: 'hidden' });

  // The server forgot the cancelled call: Carol's ring reaches Bob.
  await callAndAccept(carol, bob, BOB.name, CAROL.name);
  await waitForFrames(carol, 1);
  await hangUp(bob, carol);
});

test('a ring nobody answers ends on both sides as not answered', LONG, async () => {
  await ring(alice, BOB.name);
  const dialog = ringDialog(bob);
  await dialog.getByText(`${ALICE.name} is calling you.`).waitFor({ timeout: 0 });
  // Nobody clicks: after the ring timeout the ring dialog closes and the caller is told.
  await outgoing(alice).getByText(`${BOB.name} did not answer.`).waitFor({ timeout: 0 });
  assert.equal(await outgoing(alice).getAttribute('data-call-state'), 'no_answer');
  await dialog.waitFor({ state: 'detached', timeout: 0 });
  await dismiss(alice);
  assert.equal(await bob.locator('#stage').isHidden(), true);
});

/**
 * The CSS transform of the page's own video tile ('none' when it is not mirrored).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string>}
 */
function selfTransform(page) {
  return page.locator('#stage .video-tile.self video').evaluate((video) => getComputedStyle(video).transform);
}

test('sharing the screen replaces the camera for the other side, and stopping brings it back', LONG, async () => {
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(bob, 1);
  // Chromium's fake camera is 4:3; its fake screen (--use-fake-ui-for-media-stream picks it) is wider.
  await waitAspect(bob, 'below', 1.4);
  const share = callControls(alice).getByRole('button', { name: 'Share screen' });
  await share.click();
  const stop = callControls(alice).getByRole('button', { name: 'Stop sharing' });
  await stop.waitFor({ timeout: 0 });
  assert.equal(await stop.getAttribute('aria-pressed'), 'true');
  await remoteTile(bob).getByText('sharing the screen').waitFor({ timeout: 0 });
  await waitAspect(bob, 'above', 1.5);
  const screen = await alice.evaluate(() => {
    const m = /** @type {any} */ (window).bureau.media;
    return { label: m.screen ? m.screen.label : '', surface: m.screen ? m.screen.getSettings().displaySurface : '' };
  });
  assert.equal(screen.surface, 'monitor', `a screen is shared (${screen.label})`);
  // Alice sees her shared screen as Bob does, not mirrored like her camera.
  assert.equal(await selfTransform(alice), 'none', 'the shared screen is not mirrored');

  await stop.click();
  await callControls(alice).getByRole('button', { name: 'Share screen' }).waitFor();
  await remoteTile(bob).getByText('sharing the screen').waitFor({ state: 'detached', timeout: 0 });
  await waitAspect(bob, 'below', 1.4);
  assert.equal(await alice.evaluate(() => /** @type {any} */ (window).bureau.media.screen), null, 'the screen capture stopped');
  assert.equal(await selfTransform(alice), 'matrix(-1, 0, 0, 1, 0, 0)', 'the camera shows as a mirror again');
  await hangUp(alice, bob);
  assert.deepEqual(browsers[0].errors, []);
});

test('choosing another microphone and camera during a call; the choice is remembered', LONG, async () => {
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(alice, 1);
  await callControls(bob).getByRole('button', { name: 'Devices' }).click();
  const mic = bob.getByLabel('Microphone', { exact: true });
  const cam = bob.getByLabel('Camera', { exact: true });
  await mic.locator('option').nth(1).waitFor({ state: 'attached' });
  // The menus offer the devices the browser has (Chromium's fakes: three microphones, three cameras).
  assert.deepEqual(await mic.locator('option').allTextContents(), ['Fake Default Audio Input', 'Fake Audio Input 1', 'Fake Audio Input 2']);
  assert.deepEqual(await cam.locator('option').allTextContents(), ['fake_device_0', 'fake_device_1', 'fake_device_2']);
  const before = await sending(bob);
  assert.equal(before.audio, before.mic, 'the microphone is sent');
  assert.equal(before.video, before.camera, 'the camera is sent');

  const micId = await mic.locator('option', { hasText: 'Fake Audio Input 2' }).getAttribute('value');
  // Not fake_device_1: Chromium fakes a depth camera (Y16) there, which no video encoder takes.
  const camId = await cam.locator('option', { hasText: 'fake_device_2' }).getAttribute('value');
  assert.ok(micId && camId);
  assert.notEqual(camId, before.cameraDevice, 'the third camera is not the one in use');
  await mic.selectOption(micId);
  await cam.selectOption(camId);
  // Both new devices are open and are what Alice receives (the senders carry their tracks).
  await pollUntil(bob, async ([m, c]) => {
    const b = /** @type {any} */ (window).bureau;
    const pc = /** @type {RTCPeerConnection|undefined} */ ([...b.peerConnections.values()][0]);
    if (!pc || !b.media.audio || !b.media.camera) return false;
    const sent = pc.getSenders().map((s) => s.track && s.track.id);
    return b.media.audio.getSettings().deviceId === m && b.media.camera.getSettings().deviceId === c
      && sent.includes(b.media.audio.id) && sent.includes(b.media.camera.id);
  }, [micId, camId]);
  const after = await sending(bob);
  assert.notEqual(after.video, before.video, 'a new camera track is sent');
  const [frames] = await peerStats(alice);
  await waitForFrames(alice, 1, frames.framesDecoded + 30);
  assert.deepEqual(await bob.evaluate(() => [localStorage.getItem('bureau.microphone'), localStorage.getItem('bureau.camera')]), [micId, camId]);
  await hangUp(bob, alice);

  // The next call opens the chosen devices, and the menus show them chosen.
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(alice, 1);
  const again = await sending(bob);
  assert.deepEqual([again.micDevice, again.cameraDevice], [micId, camId]);
  await callControls(bob).getByRole('button', { name: 'Devices' }).click();
  await pollUntil(bob, async (want) => /** @type {HTMLSelectElement|null} */ (document.getElementById('device-cam'))?.value === want, camId);
  assert.equal(await mic.inputValue(), micId);
  await hangUp(alice, bob);
  assert.deepEqual(browsers[1].errors, []);
});

test('the devices chosen in the consent step are the ones the call opens', LONG, async () => {
  // Clearing the browser's storage forgets consent and devices (PRODUCT.md §4): Bob is asked again.
  await bob.evaluate(() => localStorage.clear());
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  const dialog = bob.getByRole('dialog', { name: 'Camera and microphone' });
  await dialog.getByLabel('Camera', { exact: true }).check();
  await dialog.getByLabel('Microphone', { exact: true }).check();
  const camera = dialog.getByLabel('Camera device');
  const microphone = dialog.getByLabel('Microphone device');
  await camera.locator('option', { hasText: 'fake_device_2' }).waitFor({ state: 'attached', timeout: 0 });
  await microphone.locator('option', { hasText: 'Fake Audio Input 1' }).waitFor({ state: 'attached', timeout: 0 });
  await camera.selectOption({ label: 'fake_device_2' });
  await microphone.selectOption({ label: 'Fake Audio Input 1' });
  // The preview shows the chosen devices, and the menus keep them chosen.
  await pollUntil(bob, async () => {
    const v = /** @type {HTMLVideoElement|null} */ (document.querySelector('.consent-video'));
    const stream = /** @type {MediaStream|null} */ (v && v.srcObject);
    const labels = stream ? stream.getTracks().map((t) => t.label).sort() : [];
    return labels.join() === 'Fake Audio Input 1,fake_device_2';
  }, null);
  assert.equal(await camera.locator('option:checked').textContent(), 'fake_device_2');
  assert.equal(await microphone.locator('option:checked').textContent(), 'Fake Audio Input 1');
  await dialog.getByRole('button', { name: 'I agree' }).click();
  await dialog.waitFor({ state: 'detached' });

  await waitForFrames(alice, 1);
  const used = await bob.evaluate(() => {
    const m = /** @type {any} */ (window).bureau.media;
    return [m.audio && m.audio.label, m.camera && m.camera.label];
  });
  assert.deepEqual(used, ['Fake Audio Input 1', 'fake_device_2']);
  await hangUp(alice, bob);
  assert.deepEqual(browsers[1].errors, []);
});

test('who is speaking: the other side sees it, not while muted', LONG, async () => {
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(bob, 1);
  // Chromium's fake microphone beeps: Alice's voice activity reaches Bob's view of her tile.
  const tile = remoteTile(bob);
  await bob.locator('#stage .video-tile.speaking:not(.self)').waitFor({ timeout: 0 });
  await tile.getByText('speaking', { exact: true }).waitFor({ state: 'attached', timeout: 0 });
  await alice.locator('#stage .video-tile.self.speaking').waitFor({ timeout: 0 });

  await callControls(alice).getByRole('button', { name: 'Mute' }).click();
  await bob.locator('#stage .video-tile.muted:not(.self)').waitFor({ timeout: 0 });
  // Muted, the beeps no longer count as speaking: Bob sees no speaking mark.
  assert.equal(await bob.locator('#stage .video-tile.speaking:not(.self)').count(), 0);

  await callControls(alice).getByRole('button', { name: 'Unmute' }).click();
  await bob.locator('#stage .video-tile.speaking:not(.muted):not(.self)').waitFor({ timeout: 0 });
  await hangUp(alice, bob);
});

test("Bob's network drops during a call: both sides end it, Bob reconnects and can be called again", LONG, async () => {
  /** @param {import('playwright-core').Page} page */
  const callCount = async (page) => (await apiFromPage(page, 'GET', '/api/me/calls')).body.calls.length;
  const logged = await callCount(alice);
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(alice, 1);
  await waitForFrames(bob, 1);

  proxy.cut();
  // Bob: the banner says the office is gone, and his call stage closes.
  await bob.locator('#conn-banner').getByText('Reconnecting to the office').waitFor({ timeout: 0 });
  await bob.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
  // Alice: Bureau ended the call, her stage closes, and after the grace period Bob is offline.
  await alice.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
  await alice.waitForFunction(() => /** @type {any} */ (window).bureau.peerConnections.size === 0, null, { timeout: 0 });
  await waitPresence(alice, BOB.name, 'offline');

  proxy.restore();
  await bob.locator('#conn-banner').waitFor({ state: 'hidden', timeout: 0 });
  await waitPresence(alice, BOB.name, 'online');
  await waitPresence(bob, ALICE.name, 'online');
  assert.equal(await bob.locator('#stage').isHidden(), true, 'the ended call does not come back');
  assert.equal(await bob.evaluate(() => /** @type {any} */ (window).bureau.office.call), null);
  // The call is in Alice's history, with its two participants.
  await pollUntil(alice, async (n) => (await (await fetch('/api/me/calls')).json()).calls.length > n, logged);
  const calls = await apiFromPage(alice, 'GET', '/api/me/calls');
  assert.equal(calls.body.calls[0].participants.length, 2);

  // Nothing of the dropped call is left on the server: a new call connects.
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  await waitForFrames(alice, 1);
  await waitForFrames(bob, 1);
  await hangUp(bob, alice);
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});
