// Verification anyone can do (docs/messaging.md): Ada and Bob open their conversation's safety
// code; both see the same 60 digits (and a QR code), and the digits are the ones an independent
// computation here in Node gives from the devices' public keys on the server. Ada marks Bob
// verified. Then Bob's browser gets new keys (a new device); before Ada's next message goes,
// her conversation says plainly that Bob's devices changed, holds the message back, and shows a
// new safety code, again equal on both sides; once she verified it again, the message goes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startBureau } from './server.js';
import { openBrowser, signIn, apiFromPage } from './browser.js';
import { officeOf, pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser} */ let browserA;
/** @type {import('./browser.js').Browser} */ let browserB;
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
let adaId = '';
let bobId = '';
let firstCode = '';

before(async () => {
  bureau = await startBureau();
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  browserA = await openBrowser(bureau);
  browserB = await openBrowser(bureau);
  ada = browserA.page;
  bob = browserB.page;
  await signIn(ada, ADA.email, ADA.password);
  await signIn(bob, BOB.email, BOB.password);
  adaId = await ada.evaluate(() => /** @type {any} */ (window).bureau.office.me.id);
  bobId = await bob.evaluate(() => /** @type {any} */ (window).bureau.office.me.id);
  // Each live office registered its browser as a device.
  for (const page of [ada, bob]) await page.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
}, LONG);
after(async () => {
  for (const b of [browserA, browserB]) if (b) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * The safety code computed here, independently of the web client, from the devices' signing
 * keys the server lists (docs/messaging.md).
 * @returns {Promise<string>}
 */
async function expectedCode() {
  /** @param {string} userId */
  const half = async (userId) => {
    const devices = (await apiFromPage(ada, 'GET', `/api/users/${userId}/devices`)).body.devices;
    const keys = Buffer.concat(devices.map((/** @type {any} */ d) => Buffer.from(d.sign_public, 'base64url')).sort(Buffer.compare));
    let hash = Buffer.concat([Buffer.from('bureau-safety-v1'), Buffer.from(userId), Buffer.from([0]), keys]);
    for (let i = 0; i < 5200; i++) hash = createHash('sha512').update(hash).update(keys).digest();
    let digits = '';
    for (let chunk = 0; chunk < 6; chunk++) digits += String(hash.readUIntBE(chunk * 5, 5) % 100000).padStart(5, '0');
    return digits;
  };
  const [first, second] = [adaId, bobId].sort();
  return (await half(first)) + (await half(second));
}

/**
 * Opens the conversation with a colleague from their office card.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function openConversation(page, name) {
  await officeOf(page, name).locator('.owner-line').click();
  await page.getByRole('dialog', { name }).getByRole('button', { name: 'Message' }).click();
  await page.locator('#chat').getByRole('heading', { name }).waitFor();
}

/**
 * Opens the safety code dialog of the open conversation and reads the digits.
 * @param {import('playwright-core').Page} page
 * @param {string} name The colleague.
 * @returns {Promise<{code: string, dialog: import('playwright-core').Locator}>}
 */
async function readCode(page, name) {
  await page.locator('#chat').getByRole('button', { name: 'Safety code' }).click();
  const dialog = page.getByRole('dialog', { name: `Safety code with ${name}` });
  const group = dialog.getByRole('group', { name: 'Safety code' });
  await group.waitFor();
  assert.equal(await group.locator('span').count(), 12, 'twelve groups of five digits');
  await dialog.getByRole('img', { name: `Safety code with ${name} as a QR code` }).waitFor();
  return { code: (await group.innerText()).replace(/\s+/g, ''), dialog };
}

test('both sides see the same safety code, the one the devices\' keys give', LONG, async () => {
  await openConversation(ada, BOB.name);
  await ada.locator('#chat').getByText('Not verified').waitFor();
  const fromAda = await readCode(ada, BOB.name);
  assert.match(fromAda.code, /^\d{60}$/);
  assert.equal(await fromAda.dialog.getByRole('list', { name: 'Devices the conversation is encrypted for' }).getByRole('listitem').count(), 2);
  await openConversation(bob, ADA.name);
  const fromBob = await readCode(bob, ADA.name);
  assert.equal(fromBob.code, fromAda.code, 'the same on both sides');
  assert.equal(fromAda.code, await expectedCode(), 'computed as documented');
  firstCode = fromAda.code;
  await bob.keyboard.press('Escape');

  await fromAda.dialog.getByRole('button', { name: 'Mark as verified' }).click();
  await ada.getByText(`${BOB.name} is marked verified on this device.`).waitFor();
  await ada.locator('#chat').getByText('Verified ✓').waitFor();
  assert.deepEqual(browserA.errors, []);
  assert.deepEqual(browserB.errors, []);
});

test('after Bob\'s keys change, Ada is told before her next message goes', LONG, async () => {
  // Bob's browser loses its keys (a new browser profile would do the same): it registers a
  // new device when the office starts again.
  await bob.goto('/healthz');
  await bob.evaluate(async () => {
    for (const name of ['bureau-device', 'bureau-messages', 'bureau-history']) {
      await new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve(undefined);
        request.onerror = () => reject(request.error);
      });
    }
  });
  await bob.goto('/office');
  await bob.waitForFunction(() => Boolean(/** @type {any} */ (window).bureau?.mailbox));
  await bob.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
  await pollUntil(ada, async (id) => (await (await fetch(`/api/users/${id}/devices`)).json()).devices.length === 2, bobId);

  const box = ada.getByRole('textbox', { name: `Message to ${BOB.name}` });
  await box.fill('Is this still you?');
  await box.press('Enter');
  const warning = ada.locator('#chat').getByRole('alert');
  await warning.getByText(`${BOB.name}'s devices changed (1 device added). You had verified ${BOB.name}: compare your safety code again before you send anything. Nothing was sent.`).waitFor();
  assert.equal(await box.inputValue(), 'Is this still you?', 'the message is held back');
  assert.equal(await ada.locator('#chat .chat-msg', { hasText: 'Is this still you?' }).count(), 0);
  await ada.locator('#chat').getByText('Not verified').waitFor();

  await warning.getByRole('button', { name: 'Compare safety code' }).click();
  const dialog = ada.getByRole('dialog', { name: `Safety code with ${BOB.name}` });
  const code = (await dialog.getByRole('group', { name: 'Safety code' }).innerText()).replace(/\s+/g, '');
  assert.notEqual(code, firstCode, 'a new device, a new code');
  assert.equal(code, await expectedCode());
  await openConversation(bob, ADA.name);
  assert.equal((await readCode(bob, ADA.name)).code, code, 'Bob sees the new code too');
  await bob.keyboard.press('Escape');

  await dialog.getByRole('button', { name: 'Mark as verified' }).click();
  await warning.waitFor({ state: 'detached' });
  await box.press('Enter');
  await bob.locator('#chat .chat-msg.in', { hasText: 'Is this still you?' }).waitFor();
  assert.deepEqual(browserA.errors, []);
  assert.deepEqual(browserB.errors, []);
});
