// Out of office with a deputy against a real `bureau serve`: a colleague marks themselves out of
// office and names a deputy; the others see it on the floor plan, on the person card and in the
// chat header, also once the colleague has signed out and is offline; the colleague finds the
// choice again in the presence dialog when back, and switching it off clears it for everyone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, signIn } from './browser.js';
import { enterOffice, waitPresence, officeOf, setPresence } from './office.js';

const ALICE = { email: 'alice@example.test', name: 'Alice Ball', password: 'chaulmoogra-oil', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 120_000 };
const AWAY = `Out of office — deputy: ${CAROL.name}`;

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let alice;
/** @type {import('playwright-core').Page} */ let bob;
/** @type {import('playwright-core').Page} */ let carol;

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3 });
  for (const u of [ALICE, BOB, CAROL]) await bureau.createUser(u);
  for (let i = 0; i < 3; i++) browsers.push(await openBrowser(bureau));
  [alice, bob, carol] = browsers.map((b) => b.page);
  await enterOffice(alice, ALICE);
  await enterOffice(bob, BOB);
  await enterOffice(carol, CAROL);
  // Bob's deputy list offers the colleagues he sees in the office.
  await waitPresence(bob, CAROL.name, 'online');
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * The presence line of a colleague's office on the floor plan.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @returns {import('playwright-core').Locator}
 */
function line(page, name) {
  return officeOf(page, name).locator('.owner-line .presence-ooo');
}

test('out of office with a deputy: colleagues see the deputy, also while the colleague is offline', LONG, async () => {
  await setPresence(bob, { outOfOffice: true, deputy: CAROL.name });
  for (const page of [alice, carol]) await line(page, BOB.name).getByText(AWAY).waitFor({ timeout: 0 });

  // On Bob's card, with the ways to reach him.
  await officeOf(alice, BOB.name).locator('.owner-line').click();
  const card = alice.getByRole('dialog', { name: BOB.name });
  await card.getByText(AWAY).waitFor();
  await card.getByRole('button', { name: 'Message' }).click();
  // In the chat header too.
  await alice.locator('#chat-head').getByText(AWAY).waitFor();
  await alice.getByRole('button', { name: 'Close the conversation' }).click();

  // Bob signs out and goes home: after the grace period he is offline, still out of office.
  await bob.getByRole('button', { name: /account menu/ }).click();
  await bob.getByRole('button', { name: 'Sign out' }).click();
  await bob.waitForURL('**/login');
  await waitPresence(alice, BOB.name, 'offline');
  await line(alice, BOB.name).getByText(AWAY).waitFor();
  // A page loaded now gets it from the server, not from what it saw earlier.
  await alice.reload();
  await waitPresence(alice, BOB.name, 'offline');
  await line(alice, BOB.name).getByText(AWAY).waitFor({ timeout: 0 });
  await officeOf(alice, BOB.name).locator('.owner-line').click();
  await card.getByText(`${BOB.name} is offline.`).waitFor();
  await card.getByText(AWAY).waitFor();
  await alice.keyboard.press('Escape');
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});

test('back in the office, Bob finds his choice in the dialog and switches it off for everyone', LONG, async () => {
  await signIn(bob, BOB.email, BOB.password);
  // Open, the connection has brought Bob's presence as the server keeps it.
  await bob.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
  await waitPresence(alice, BOB.name, 'online');
  await line(alice, BOB.name).getByText(AWAY).waitFor({ timeout: 0 });

  await bob.getByRole('button', { name: /set your presence/ }).click();
  const dialog = bob.getByRole('dialog', { name: 'My presence' });
  assert.equal(await dialog.getByLabel('Out of office').isChecked(), true);
  assert.equal(await dialog.getByLabel('Deputy', { exact: true }).locator('option:checked').textContent(), CAROL.name);
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await setPresence(bob, { outOfOffice: false });
  for (const page of [alice, carol]) await line(page, BOB.name).waitFor({ state: 'detached', timeout: 0 });
  await bob.getByRole('button', { name: /set your presence/ }).click();
  assert.equal(await dialog.getByLabel('Deputy', { exact: true }).isDisabled(), true, 'no deputy while in the office');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});
