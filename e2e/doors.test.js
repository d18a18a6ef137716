// Doors against a real `bureau serve` (issue #18): Bob closes the door of his office from its
// card; Ada's card shows it closed and offers no way in but the knock, and the server refuses
// her `join_room` sent straight over the socket (as a hostile page would), with the reason on her
// page. Opened again, she walks in. Do-not-disturb shuts it whatever it says; her knock then
// rings nobody but leaves Bob a note, from which he calls her back. A knock that is answered takes
// the stage on both sides: in view however far the page was scrolled, with focus on it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser } from './browser.js';
import { enterOffice, waitPresence, officeOf, setPresence, pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;

before(async () => {
  bureau = await startBureau({});
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  [ada, bob] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
  await enterOffice(bob, BOB);
  await waitPresence(ada, BOB.name, 'online');
  await waitPresence(bob, ADA.name, 'online');
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * The id of a colleague's office, from the page's floor plan.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @returns {Promise<string>}
 */
async function officeId(page, name) {
  return /** @type {string} */ (await officeOf(page, name).getAttribute('data-room-id'));
}

test('a closed door keeps colleagues out, in the page and at the server; opened, they walk in', LONG, async () => {
  const door = officeOf(bob, BOB.name).getByRole('button', { name: 'Close the door' });
  await door.focus();
  await bob.keyboard.press('Enter');
  const open = officeOf(bob, BOB.name).getByRole('button', { name: 'Open the door' });
  await open.waitFor();
  assert.equal(await open.getAttribute('aria-pressed'), 'true');

  const walk = officeOf(ada, BOB.name).locator('[data-action="enter"]');
  await ada.waitForFunction((id) => document.querySelector(`[data-room-id="${id}"] [data-action="enter"]:disabled`) !== null, await officeId(ada, BOB.name), { timeout: 0 });
  assert.equal(await walk.textContent(), 'Door closed');
  assert.equal(await walk.isDisabled(), true);
  assert.equal(await officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name}` }).isEnabled(), true, 'the knock stays');

  // A page that ignores the button: the server refuses, and the page says why.
  const room = await officeId(ada, BOB.name);
  await ada.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), room);
  await ada.getByRole('status').filter({ hasText: `${BOB.name}'s door is closed: knock to ask to come in` }).waitFor();
  assert.equal(await ada.evaluate(() => /** @type {any} */ (window).bureau.office.roomId), '', 'Ada is in no room');
  assert.equal(await bob.locator('#stage').isHidden(), true, 'nobody walked in on Bob');

  await open.click();
  await officeOf(bob, BOB.name).getByRole('button', { name: 'Close the door' }).waitFor();
  await ada.waitForFunction((id) => document.querySelector(`[data-room-id="${id}"] [data-action="enter"]:disabled`) === null, room, { timeout: 0 });
  await walk.click();
  await pollUntil(ada, async (id) => /** @type {any} */ (window).bureau.office.roomId === id, room);
  await ada.getByRole('button', { name: /^Leave/ }).first().click();
  await pollUntil(ada, async () => /** @type {any} */ (window).bureau.office.roomId === '', null);
});

test('do not disturb shuts the door; a knock leaves a note and Bob calls back from it', LONG, async () => {
  await setPresence(bob, { status: 'dnd' });
  await waitPresence(ada, BOB.name, 'dnd');
  assert.equal(await officeOf(ada, BOB.name).locator('[data-action="enter"]').textContent(), 'Do not disturb');
  const room = await officeId(ada, BOB.name);
  await ada.evaluate((id) => /** @type {any} */ (window).bureau.office.enter(id), room);
  await ada.getByRole('status').filter({ hasText: `${BOB.name} does not want to be disturbed` }).first().waitFor();

  await officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name}` }).click();
  await ada.getByText(`${BOB.name} does not want to be disturbed: nothing rang, they will see that you knocked.`).waitFor();
  assert.equal(await bob.getByRole('dialog', { name: 'Incoming call' }).count(), 0, 'nothing rang');
  const notes = bob.getByRole('region', { name: 'Missed knocks' });
  await notes.getByText(`${ADA.name} knocked at`).waitFor();

  await setPresence(bob, { status: 'online' });
  await waitPresence(ada, BOB.name, 'online');
  await notes.getByRole('button', { name: 'Call back' }).click();
  const ring = ada.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByText(`${BOB.name} is calling you.`).waitFor();
  await ring.getByRole('button', { name: 'Decline' }).click();
  await notes.waitFor({ state: 'detached' });
});

/**
 * Whether the page's call stage is in view and holds the focus.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{focused: boolean, inView: boolean}>}
 */
function stageState(page) {
  return page.evaluate(() => {
    const stage = document.getElementById('stage');
    const top = stage ? stage.getBoundingClientRect().top : -1;
    return { focused: Boolean(stage && stage.contains(document.activeElement)), inView: top >= 0 && top < window.innerHeight };
  });
}

test('an answered knock takes the stage with focus, for the caller and the callee', LONG, async () => {
  await ada.setViewportSize({ width: 1440, height: 500 });
  await bob.setViewportSize({ width: 1440, height: 500 });
  for (const page of [ada, bob]) await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  const knock = officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name}` });
  await knock.focus();
  await ada.keyboard.press('Enter');
  const ring = bob.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByRole('button', { name: 'Accept' }).click();
  /** @type {[import('playwright-core').Page, string][]} */
  const sides = [[ada, 'the caller'], [bob, 'the callee']];
  for (const [page, who] of sides) {
    await page.locator('#stage .video-grid').waitFor();
    await page.waitForFunction(() => document.activeElement?.classList.contains('stage-title'), null, { timeout: 0 });
    assert.deepEqual(await stageState(page), { focused: true, inView: true }, who);
  }
  await ada.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: /Leave/ }).click();
  await pollUntil(bob, async () => /** @type {any} */ (window).bureau.office.roomId === '', null);
});

test('from the directory, a colleague\'s card shows their presence and offers Call and Message', LONG, async () => {
  await ada.goto('/directory');
  const card = ada.locator(`article.person[aria-label="${BOB.name}"]`);
  await card.locator('.person-presence').getByText('Online').waitFor();
  assert.equal(await ada.locator(`article.person[aria-label="${ADA.name}"] .person-actions`).count(), 0, 'nothing to call oneself with');
  // Bob's status reaches the card without a reload.
  await setPresence(bob, { status: 'busy' });
  await card.locator('.person-presence').getByText('Busy').waitFor();
  await setPresence(bob, { status: 'online' });
  await card.getByRole('button', { name: `Call ${BOB.name}` }).click();
  const ring = bob.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByText(`${ADA.name} is calling you.`).waitFor();
  await ring.getByRole('button', { name: 'Decline' }).click();
  await card.getByRole('button', { name: `Message ${BOB.name}` }).click();
  await ada.getByRole('complementary').getByText(BOB.name).first().waitFor();
  await ada.goto('/office');
});
