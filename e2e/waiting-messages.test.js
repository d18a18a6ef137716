// Messages that wait, as users meet them in the chat panel (web/live/mailbox.js): Bob has used
// Bureau once in his browser and signed out; Ada opens his card, writes him three messages and
// sends a small file (inside a message) and a larger one (uploaded encrypted) while he is
// offline — they go through the server, encrypted for his device; a file over the
// organisation's limit is refused with the reason; the data folder holds none of the plaintexts
// (raw scan). Bob signs in again in his own browser profile: the conversation opens with the
// five, the small file can be saved, the larger one downloaded, checked and saved, and the
// server's queue for his device is empty. After a reload the conversation is still there (this
// device's history). While both are online, a message queued on the server reaches Bob's open
// page at once (the `inbox` frame), and Bob's reply goes peer to peer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startBureau, filesUnder } from './server.js';
import { openBrowser, signIn, signOut, waitingFor, apiFromPage } from './browser.js';
import { waitPresence, officeOf } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 120_000 };

const TEXTS = ['Kestrel plaintext one c41e', 'Kestrel plaintext two 9a07', 'Kestrel plaintext three 2f6b'];
const FILE_NAME = 'heron-minutes-77d2.txt';
const FILE = Buffer.from(Array.from({ length: 40 }, (_, i) => `HERON-FILE-LINE ${i}\n`).join(''));
const BIG_NAME = 'osprey-survey-5e19.txt';
const BIG = Buffer.from(Array.from({ length: 12000 }, (_, i) => `OSPREY-BIG-LINE ${i}\n`).join(''));

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser} */ let browserA;
/** @type {import('./browser.js').Browser} */ let browserB;

before(async () => {
  bureau = await startBureau();
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  browserA = await openBrowser(bureau);
  browserB = await openBrowser(bureau);
}, LONG);
after(async () => {
  for (const b of [browserA, browserB]) if (b) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * This page's device id, once the live office registered it.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string>}
 */
function deviceOf(page) {
  return page.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
}

test('Bob has used Bureau in his browser once, then signed out', LONG, async () => {
  const bob = browserB.page;
  await signIn(bob, BOB.email, BOB.password);
  // The live office registers this browser as one of Bob's devices by itself.
  const device = await deviceOf(bob);
  assert.match(device, /^[A-Za-z0-9_-]+$/);
  await signOut(bob);
});

test('Ada writes to offline Bob: three messages and a file wait on the server, encrypted', LONG, async () => {
  const ada = browserA.page;
  await signIn(ada, ADA.email, ADA.password);
  await waitPresence(ada, BOB.name, 'offline');
  await officeOf(ada, BOB.name).locator('.owner-line').click();
  const card = ada.getByRole('dialog', { name: BOB.name });
  await card.getByText(`${BOB.name} is offline. A message or a file waits for ${BOB.name}, encrypted`, { exact: false }).waitFor();
  await card.getByRole('button', { name: 'Message' }).click();
  const panel = ada.locator('#chat');
  await panel.getByText(`otherwise it waits on the server, encrypted for ${BOB.name}'s devices`, { exact: false }).waitFor();
  const box = ada.getByRole('textbox', { name: `Message to ${BOB.name}` });
  for (const text of TEXTS) {
    await box.fill(text);
    await box.press('Enter');
    await panel.locator('.chat-msg.out', { hasText: text }).getByText('via server').waitFor();
  }
  await ada.locator('#chat-file').setInputFiles({ name: FILE_NAME, mimeType: 'text/plain', buffer: FILE });
  const sentFile = panel.locator('.chat-file.out[data-state="queued"]', { hasText: FILE_NAME });
  await sentFile.getByText('Encrypted, waiting on the server').waitFor();

  // A file larger than fits in a message is uploaded encrypted, and its key goes in the message.
  assert.ok(BIG.length > 128 * 1024);
  await ada.locator('#chat-file').setInputFiles({ name: BIG_NAME, mimeType: 'text/plain', buffer: BIG });
  await panel.locator('.chat-file.out[data-state="queued"]', { hasText: BIG_NAME }).getByText('Encrypted, waiting on the server').waitFor();
  // Over the organisation's limit (1 MiB here), a file is refused with the reason, and nothing waits.
  assert.equal((await apiFromPage(ada, 'PATCH', '/api/org', { messages_max_file_mb: 1 })).status, 200);
  await ada.locator('#chat-file').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1536 * 1024, 7) });
  await ada.getByText(`${BOB.name} is offline, and the file is too large to wait on the server:`, { exact: false }).waitFor();
  assert.equal(await panel.locator('.chat-file', { hasText: 'huge.bin' }).count(), 0);
  assert.equal((await apiFromPage(ada, 'PATCH', '/api/org', { messages_max_file_mb: 25 })).status, 200);

  const needles = [...TEXTS, FILE_NAME, BIG_NAME, 'HERON-FILE-LINE', 'OSPREY-BIG-LINE', FILE.subarray(0, 48).toString('base64url')].map((s) => Buffer.from(s));
  const files = await filesUnder(bureau.dataDir);
  assert.ok(files.some((f) => f.endsWith('.db') || f.includes('sqlite')), `the scan reads the database among ${files.join(', ')}`);
  for (const file of files) {
    const bytes = await readFile(file);
    for (const needle of needles) assert.ok(!bytes.includes(needle), `${needle} in clear in ${file}`);
  }
  assert.deepEqual(browserA.errors, []);
});

test('Bob signs in again: the conversation opens with the five, and the server keeps nothing', LONG, async () => {
  const bob = browserB.page;
  await signIn(bob, BOB.email, BOB.password);
  const panel = bob.locator('#chat');
  await panel.getByRole('heading', { name: ADA.name }).waitFor();
  for (const text of TEXTS) await panel.locator('.chat-msg.in', { hasText: text }).getByText('via server').waitFor();
  const file = panel.locator('.chat-file.in[data-state="verified"]', { hasText: FILE_NAME });
  await file.waitFor();
  const [download] = await Promise.all([bob.waitForEvent('download'), file.getByRole('link', { name: 'Save' }).click()]);
  assert.equal(download.suggestedFilename(), FILE_NAME);
  const path = await download.path();
  assert.ok(path && (await readFile(path)).equals(FILE), 'the saved file is the one Ada sent');
  // The larger file: downloaded on demand, decrypted and checked here, then saved.
  const big = panel.locator('.chat-file.in', { hasText: BIG_NAME });
  await big.getByText('Encrypted on the server').waitFor();
  await big.getByRole('button', { name: 'Download' }).click();
  await panel.locator('.chat-file.in[data-state="verified"]', { hasText: BIG_NAME }).waitFor();
  const [saved] = await Promise.all([bob.waitForEvent('download'), big.getByRole('link', { name: 'Save' }).click()]);
  const bigPath = await saved.path();
  assert.ok(bigPath && (await readFile(bigPath)).equals(BIG), 'the downloaded file is the one Ada sent');
  // In the order they were sent.
  const order = await panel.locator('.chat-msg.in').allInnerTexts();
  assert.deepEqual(TEXTS.map((t) => order.findIndex((line) => line.includes(t))), [0, 1, 2]);
  assert.equal(await waitingFor(bob), 0, 'fetched = deleted on the server');

  // This device keeps the conversation: after a reload it is there without the server.
  await bob.reload();
  await bob.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await officeOf(bob, ADA.name).locator('.owner-line').click();
  await bob.getByRole('dialog', { name: ADA.name }).getByRole('button', { name: 'Message' }).click();
  for (const text of TEXTS) await panel.locator('.chat-msg.in', { hasText: text }).waitFor();
  await panel.locator('.chat-file.in', { hasText: FILE_NAME }).waitFor();
  // The larger file is kept as its reference: it can be downloaded again.
  await panel.locator('.chat-file.in', { hasText: BIG_NAME }).getByRole('button', { name: 'Download' }).waitFor();
  assert.deepEqual(browserB.errors, []);
});

test('both online: a message queued on the server reaches Bob at once; his reply goes peer to peer', LONG, async () => {
  const ada = browserA.page;
  const bob = browserB.page;
  await waitPresence(ada, BOB.name, 'online');
  const bobId = await bob.evaluate(() => /** @type {any} */ (window).bureau.office.me.id);
  // Through the server although Bob is online (as when the data channel cannot be opened):
  // the `inbox` frame tells his page, which fetches it without a reload.
  await ada.evaluate(([to, text]) => /** @type {any} */ (window).bureau.mailbox.sendThroughServer(to, { kind: 'text', text }), [bobId, 'Pushed through the server 5d1c']);
  const panel = bob.locator('#chat');
  await panel.locator('.chat-msg.in', { hasText: 'Pushed through the server 5d1c' }).getByText('via server').waitFor();

  const box = bob.getByRole('textbox', { name: `Message to ${ADA.name}` });
  await box.fill('Thanks, read them all');
  await box.press('Enter');
  const reply = ada.locator('#chat .chat-msg.in', { hasText: 'Thanks, read them all' });
  await reply.waitFor();
  assert.equal(await reply.getByText('via server').count(), 0, 'peer to peer while both are online');
  assert.deepEqual(browserA.errors, []);
  assert.deepEqual(browserB.errors, []);
});

test('an organisation that keeps strict peer to peer: nothing waits, and the sender is told why', LONG, async () => {
  const ada = browserA.page;
  const bob = browserB.page;
  await ada.getByRole('button', { name: 'Close the conversation' }).click();
  await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
  const form = ada.getByRole('form', { name: 'Message settings' });
  const days = form.getByLabel('Keep a waiting message at most (days)');
  assert.equal(await days.inputValue(), '30');
  await days.fill('400');
  await form.getByRole('button', { name: 'Save message settings' }).click();
  await form.getByText('Enter a whole number of days from 1 to 365.').waitFor();
  await days.fill('7');
  await form.getByRole('switch', { name: 'Messages wait for colleagues who are offline' }).uncheck();
  await form.getByRole('button', { name: 'Save message settings' }).click();
  await ada.getByText('Message settings saved.').waitFor();
  const org = await ada.evaluate(async () => (await fetch('/api/org')).json());
  assert.deepEqual([org.messages_store_and_forward, org.messages_retention_days], [false, 7]);

  await signOut(bob);
  await ada.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Office' }).click();
  await waitPresence(ada, BOB.name, 'offline');
  await officeOf(ada, BOB.name).locator('.owner-line').click();
  await ada.getByRole('dialog', { name: BOB.name }).getByRole('button', { name: 'Message' }).click();
  const box = ada.getByRole('textbox', { name: `Message to ${BOB.name}` });
  await box.fill('This one cannot wait');
  await box.press('Enter');
  await ada.getByText(`${BOB.name} is offline, and your organisation delivers messages only while both people are online; the message was not sent.`).waitFor();
  assert.equal(await ada.locator('#chat .chat-msg', { hasText: 'This one cannot wait' }).count(), 0);
  assert.deepEqual(browserA.errors, []);
});
