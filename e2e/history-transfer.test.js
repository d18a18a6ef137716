// Moving one's history to a new device (web/ui/devices.js, web/client/history-transfer.js):
// Ada chats with Bob in her first browser. She signs in on a second browser profile: its
// conversation with Bob is empty (history stays on the device that had it). Both of her
// browsers list her two devices on "My profile" with the same device code for the pair; the
// first sends its history after she confirms the code, the second shows the offer with the code
// and imports it: the conversation with Bob is there. The upload on the server is ciphertext
// only (raw scan of the data folder). Last, the second browser removes the first device.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startBureau, filesUnder } from './server.js';
import { openBrowser, signIn } from './browser.js';
import { waitPresence, chatWith } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 120_000 };
const SAID = 'Minutes of Monday, plover 3c9e';

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let laptop;
/** @type {import('playwright-core').Page} */ let desktop;
/** @type {import('playwright-core').Page} */ let bob;

before(async () => {
  bureau = await startBureau();
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 3; i += 1) browsers.push(await openBrowser(bureau));
  [laptop, desktop, bob] = browsers.map((b) => b.page);
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * The devices card of "My profile", and the device code it shows for the other device.
 * @param {import('playwright-core').Page} page
 */
async function devicesOn(page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My profile' }).click();
  const card = page.getByRole('region', { name: 'Encrypted messaging devices' });
  const rows = card.getByRole('list', { name: 'Your devices' }).getByRole('listitem');
  await card.getByText('— this browser').waitFor();
  await rows.nth(1).waitFor();
  const other = rows.filter({ hasNotText: 'this browser' });
  const code = (await other.locator('code').innerText()).trim();
  assert.match(code, /^\d{3} \d{3}$/);
  return { card, rows, other, code };
}

test('Ada\'s first browser has her conversation with Bob; her second has none', LONG, async () => {
  await signIn(laptop, ADA.email, ADA.password);
  await signIn(bob, BOB.email, BOB.password);
  await waitPresence(laptop, BOB.name, 'online');
  const box = await chatWith(laptop, BOB.name);
  await box.fill(SAID);
  await box.press('Enter');
  await bob.locator('#chat .chat-msg.in', { hasText: SAID }).waitFor();
  const reply = bob.getByRole('textbox', { name: `Message to ${ADA.name}` });
  await reply.fill('Thanks, filed them');
  await reply.press('Enter');
  await laptop.locator('#chat .chat-msg.in', { hasText: 'Thanks, filed them' }).waitFor();
  await laptop.locator('#chat').getByRole('button', { name: 'Close the conversation' }).click();

  await signIn(desktop, ADA.email, ADA.password);
  await desktop.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
  await chatWith(desktop, BOB.name);
  await desktop.locator('#chat').getByText('No messages yet.').waitFor();
  await desktop.locator('#chat').getByRole('button', { name: 'Close the conversation' }).click();
});

test('the device code matches on both; the history goes after it is compared and is imported', LONG, async () => {
  const onLaptop = await devicesOn(laptop);
  const onDesktop = await devicesOn(desktop);
  assert.equal(onLaptop.code, onDesktop.code, 'both browsers show one code for the pair');

  await onLaptop.other.getByRole('button', { name: 'Send my history' }).click();
  const dialog = laptop.getByRole('dialog', { name: /^Send your history to/ });
  await dialog.getByText(onLaptop.code).waitFor();
  await dialog.getByRole('button', { name: 'The codes match — send' }).click();
  await laptop.getByText(/messages? sent to “.*”\. Import them there, on My profile\./).waitFor();

  // The other browser is told (the inbox frame) and offers the import with the same code.
  const offer = onDesktop.card.locator('.device-offers .notice');
  await offer.getByText('sent you its history (2 messages)', { exact: false }).waitFor();
  assert.equal((await offer.locator('code').innerText()).trim(), onDesktop.code);
  const files = await filesUnder(bureau.dataDir);
  for (const file of files) assert.ok(!(await readFile(file)).includes(Buffer.from('plover 3c9e')), `the history in clear in ${file}`);
  await offer.getByRole('button', { name: 'The codes match — import' }).click();
  await desktop.getByText('2 messages added to this browser\'s history.').waitFor();
  assert.equal(await offer.count(), 0, 'the offer is gone once imported');

  await desktop.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Office' }).click();
  await chatWith(desktop, BOB.name);
  await desktop.locator('#chat .chat-msg.out', { hasText: SAID }).waitFor();
  await desktop.locator('#chat .chat-msg.in', { hasText: 'Thanks, filed them' }).waitFor();
});

test('a device that is no longer used can be removed from the other', LONG, async () => {
  const onDesktop = await devicesOn(desktop);
  await onDesktop.other.getByRole('button', { name: /^Remove / }).click();
  await desktop.getByRole('dialog', { name: /^Remove “/ }).getByRole('button', { name: 'Remove device' }).click();
  await desktop.getByText(/removed\.$/).waitFor();
  await onDesktop.rows.nth(1).waitFor({ state: 'detached' });
  assert.equal(await onDesktop.rows.count(), 1);
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
