// Guests with informed consent against a real `bureau serve` and a real SMTP sink: a member
// creates a guest link for a meeting room and walks in; a guest opens the link in a fresh browser,
// gives a name, reads and confirms the consent with Chromium's fake camera, waits in the lobby and
// is let in; both receive each other's video and audio, and the organisation's confirmation email
// arrives. A revoked link and a refused guest get a clear explanation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { startMailSink } from './mail.js';
import { openBrowser, apiFromPage, assertHttp2 } from './browser.js';
import { enterOffice, pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const ROOM = 'Boardroom';
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./mail.js').MailSink} */
let sink;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */
let ada;
let roomId = '';

before(async () => {
  sink = await startMailSink();
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: sink.url } });
  await bureau.createUser(ADA);
  browsers.push(await openBrowser(bureau));
  ada = browsers[0].page;
  await enterOffice(ada, ADA);
  const created = await apiFromPage(ada, 'POST', '/api/rooms', { name: ROOM, kind: 'meeting', capacity: 8 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  roomId = created.body.id || created.body.room?.id;
  await ada.locator(`article.room-tile[aria-label="${ROOM}"]`).waitFor({ timeout: 0 });
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (sink) await sink.stop();
});

/**
 * Creates a guest link in the room's guest link dialog and returns its URL.
 * @returns {Promise<string>}
 */
async function createLinkInUi() {
  await ada.getByRole('button', { name: `Guest link for ${ROOM}` }).click();
  const dialog = ada.getByRole('dialog', { name: `Guest link · ${ROOM}` });
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const url = await dialog.getByLabel('Guest link (shown only now)').inputValue();
  assert.match(url, /\/guest#token=/);
  await dialog.getByRole('button', { name: 'Close' }).click();
  return url;
}

/**
 * A guest in a fresh browser: opens the link, gives a name, confirms consent; returns the page.
 * @param {string} url
 * @param {string} name
 * @returns {Promise<import('playwright-core').Page>}
 */
async function guestArrives(url, name) {
  const browser = await openBrowser(bureau);
  browsers.push(browser);
  const page = browser.page;
  await page.goto(url);
  await assertHttp2(page); // the guest link as made: HTTPS, spoken over HTTP/2
  await page.getByRole('heading', { name: `Join ${ROOM}` }).waitFor();
  assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByRole('heading', { name: 'Camera and microphone', exact: true }).waitFor();
  await page.getByText('Before your camera or microphone is used').waitFor();
  await page.getByLabel('Camera', { exact: true }).check();
  await page.getByLabel('Microphone', { exact: true }).check();
  await page.waitForFunction(() => {
    const v = /** @type {HTMLVideoElement|null} */ (document.querySelector('.consent-video'));
    return Boolean(v && v.srcObject && v.videoWidth > 0);
  }, null, { timeout: 0 });
  await page.getByRole('button', { name: 'I agree' }).click();
  return page;
}

/**
 * In the page: whether its one peer connection decodes video and receives audio (getStats).
 * @returns {Promise<boolean>}
 */
async function mediaFlows() {
  const pcs = /** @type {Map<string, RTCPeerConnection>} */ (/** @type {any} */ (window).bureau?.peerConnections);
  if (!pcs || pcs.size !== 1) return false;
  for (const pc of pcs.values()) {
    let frames = 0;
    let audio = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += (s.totalSamplesReceived || 0) + (s.packetsReceived || 0);
    });
    if (frames <= 0 || audio <= 0) return false;
  }
  return true;
}

test('a guest opens the link, consents, waits in the lobby, is let in; video and audio flow both ways', LONG, async () => {
  const url = await createLinkInUi();
  await ada.getByRole('button', { name: `Walk in: ${ROOM}` }).click();
  await ada.locator('#stage .video-tile.self').waitFor({ timeout: 0 });

  const grace = await guestArrives(url, 'Grace Hopper');
  await grace.getByRole('heading', { name: 'Waiting for someone to let you in' }).waitFor({ timeout: 0 });
  await grace.getByText(ROOM, { exact: true }).first().waitFor();

  const desk = ada.getByRole('region', { name: 'Guests waiting' });
  await desk.getByText('Grace Hopper').waitFor({ timeout: 0 });
  await desk.getByRole('button', { name: 'Let Grace Hopper in' }).focus();
  await ada.keyboard.press('Enter');
  await desk.waitFor({ state: 'hidden', timeout: 0 });

  await pollUntil(grace, mediaFlows, undefined);
  await pollUntil(ada, mediaFlows, undefined);
  await ada.locator('#stage .video-tile.guest .guest-tag').getByText('Guest').waitFor({ timeout: 0 });
  await ada.locator(`article.room-tile[aria-label="${ROOM}"] .guest-tag`).waitFor({ timeout: 0 });

  // The organisation is told about the guest's consent (Ada's own, from enterOffice, came first).
  const mail = await sink.waitFor((m) => /consent/i.test(m.subject + m.text), 'consent confirmation email', 1);
  assert.ok(mail.rcpt_tos.length > 0);

  // The guest withdraws consent in the stage: camera and microphone stop at once.
  await grace.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Withdraw consent' }).click();
  await grace.waitForFunction(() => { const m = /** @type {any} */ (window).bureau.media; return !m.audio && !m.camera; }, null, { timeout: 0 });
  assert.equal(await grace.evaluate(() => localStorage.getItem('bureau.consent')), null);
  await grace.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  assert.deepEqual(browsers[0].errors, []);
  assert.deepEqual(browsers[browsers.length - 1].errors, []);
});

test('a revoked link explains that it no longer works', LONG, async () => {
  const made = await apiFromPage(ada, 'POST', `/api/rooms/${roomId}/guest-links`, { expires_in_hours: 2 });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const gone = await apiFromPage(ada, 'DELETE', `/api/guest-links/${made.body.id}`, {});
  assert.equal(gone.status, 204);
  const browser = await openBrowser(bureau);
  browsers.push(browser);
  await browser.page.goto(made.body.url);
  await browser.page.getByRole('heading', { name: 'This guest link no longer works' }).waitFor();
  await browser.page.getByText('Ask the person who invited you').waitFor();
});

test('a refused guest sees a friendly explanation', LONG, async () => {
  const made = await apiFromPage(ada, 'POST', `/api/rooms/${roomId}/guest-links`, {});
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const linus = await guestArrives(made.body.url, 'Linus Torvalds');
  await linus.getByRole('heading', { name: 'Waiting for someone to let you in' }).waitFor({ timeout: 0 });
  const desk = ada.getByRole('region', { name: 'Guests waiting' });
  await desk.getByRole('button', { name: 'Refuse Linus Torvalds' }).click();
  await linus.getByRole('heading', { name: 'You were not let in' }).waitFor({ timeout: 0 });
  await desk.waitFor({ state: 'hidden', timeout: 0 });
});

test('guests are not in the directory or the users list; administrators find them under Guests', LONG, async () => {
  await ada.goto('/directory');
  await ada.getByRole('heading', { name: 'Directory', level: 1 }).waitFor();
  await ada.getByText('Ada Lovelace').first().waitFor();
  assert.equal(await ada.getByText('Grace Hopper').count(), 0, 'no guest in the directory');
  await ada.goto('/admin');
  const guests = ada.getByRole('region', { name: 'Guests' });
  await guests.getByRole('cell', { name: 'Grace Hopper', exact: true }).waitFor();
  assert.equal(await ada.getByRole('region', { name: 'Users' }).getByText('Grace Hopper').count(), 0, 'no guest among the users');
  await guests.getByRole('button', { name: 'Erase the guest Linus Torvalds' }).click();
  const confirm = ada.getByRole('dialog', { name: 'Erase the guest Linus Torvalds?' });
  await confirm.getByRole('button', { name: 'Erase' }).click();
  await guests.getByRole('cell', { name: 'Linus Torvalds', exact: true }).waitFor({ state: 'detached' });
  await ada.goto('/');
});
