// Informed consent of a member against a real `bureau serve`: walking into a room for the first
// time in this browser asks for consent before camera and microphone open; "Not now" keeps them
// closed; "I agree" opens them and is remembered; withdrawing stops them and forgets it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, signIn, apiFromPage } from './browser.js';
import { pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const ROOM = 'Library';
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser} */
let browser;

before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADA);
  browser = await openBrowser(bureau);
  await signIn(browser.page, ADA.email, ADA.password);
  const created = await apiFromPage(browser.page, 'POST', '/api/rooms', { name: ROOM, kind: 'meeting', capacity: 4 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}, { timeout: 60_000 });
after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (bureau) await bureau.stop();
});

test('a member consents before the first room, then it is remembered; withdrawal stops the devices', LONG, async () => {
  const page = browser.page;
  const media = () => page.evaluate(() => { const m = /** @type {any} */ (window).bureau.media; return { audio: Boolean(m.audio), camera: Boolean(m.camera) }; });
  await page.getByRole('button', { name: `Walk in: ${ROOM}` }).click();
  let dialog = page.getByRole('dialog', { name: 'Camera and microphone' });
  await dialog.getByText('Before your camera or microphone is used').waitFor({ timeout: 0 });
  assert.deepEqual(await media(), { audio: false, camera: false }, 'nothing opens before consent');
  await dialog.getByRole('button', { name: 'Not now' }).click();
  await page.locator('#stage .media-problem').getByText('not agreed').waitFor({ timeout: 0 });
  assert.deepEqual(await media(), { audio: false, camera: false });
  await page.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();

  await page.getByRole('button', { name: `Walk in: ${ROOM}` }).click();
  dialog = page.getByRole('dialog', { name: 'Camera and microphone' });
  await dialog.getByRole('button', { name: 'I agree' }).click();
  await dialog.getByText('Tick the camera, the microphone or both.').waitFor();
  await dialog.getByLabel('Microphone', { exact: true }).check();
  await dialog.getByRole('button', { name: 'I agree' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction(() => Boolean(/** @type {any} */ (window).bureau.media.audio), null, { timeout: 0 });
  assert.deepEqual(await media(), { audio: true, camera: false }, 'only what was agreed to opens');
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('bureau.consent') || 'null'));
  assert.equal(stored.microphone, true);
  assert.equal(stored.camera, false);
  const list = await apiFromPage(page, 'GET', '/api/consents');
  assert.equal(list.body.consents.length, 1);

  // Remembered: leaving and walking in again asks nothing.
  await page.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  await page.getByRole('button', { name: `Walk in: ${ROOM}` }).click();
  await page.waitForFunction(() => Boolean(/** @type {any} */ (window).bureau.media.audio), null, { timeout: 0 });
  assert.equal(await page.getByRole('dialog', { name: 'Camera and microphone' }).count(), 0);

  await page.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Withdraw consent' }).click();
  await page.waitForFunction(() => !(/** @type {any} */ (window).bureau.media.audio), null, { timeout: 0 });
  assert.equal(await page.evaluate(() => localStorage.getItem('bureau.consent')), null);
  // An async predicate: page.waitForFunction would take its Promise as true at once.
  await pollUntil(page, async () => {
    const res = await fetch('/api/consents');
    const body = await res.json();
    return body.consents[0].withdrawn_at !== null;
  }, null);
  assert.deepEqual(browser.errors, []);
});
