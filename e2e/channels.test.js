// Team channels in the office page (web/ui/channels.js, the chat panel's group mode): Ada makes
// "Launch" with Bob and Carol and writes to it; Bob's and Carol's open pages show it at once
// (the server pushes `inbox`; the message is opened with Ada's key of the epoch). Ada removes
// Carol from the members dialog; her next message reaches Bob, and nothing of it is queued for
// Carol's device (the server never had a copy for her: the new epoch's key went to Bob only).
// Files go to the channel too: a small one inside the message, a larger one uploaded encrypted
// and downloaded, checked, by Bob.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startBureau } from './server.js';
import { waitingFor } from './browser.js';
import { messagingBrowsers } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
/** @type {import('playwright-core').Page} */ let carol;

before(async () => {
  bureau = await startBureau();
  for (const u of [ADA, BOB, CAROL]) await bureau.createUser(u);
  browsers.push(...await messagingBrowsers(bureau, [ADA, BOB, CAROL]));
  [ada, bob, carol] = browsers.map((b) => b.page);
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

test('a channel of three: made in a dialog, read on the others\' open pages', LONG, async () => {
  await ada.getByRole('button', { name: 'New channel' }).click();
  const dialog = ada.getByRole('dialog', { name: 'New channel' });
  await dialog.getByRole('button', { name: 'Create channel' }).click();
  await dialog.getByText('Give the channel a name.').waitFor();
  await dialog.getByLabel('Name').fill('Launch');
  await dialog.getByLabel(BOB.name).check();
  await dialog.getByLabel(CAROL.name).check();
  await dialog.getByRole('button', { name: 'Create channel' }).click();
  await ada.getByText('Channel “Launch” created.').waitFor();
  const panel = ada.locator('#chat');
  await panel.getByRole('heading', { name: 'Launch' }).waitFor();
  await panel.getByText('3 members').waitFor();
  // The others' pages list it (the server told them).
  for (const page of [bob, carol]) await page.getByRole('list', { name: 'Team channels' }).getByRole('button', { name: 'Launch' }).waitFor();

  const box = ada.getByRole('textbox', { name: 'Message to Launch' });
  await box.fill('Kick-off at ten');
  await box.press('Enter');
  await panel.locator('.chat-msg.out', { hasText: 'Kick-off at ten' }).waitFor();
  for (const page of [bob, carol]) {
    const line = page.locator('#chat .chat-msg.in', { hasText: 'Kick-off at ten' });
    await line.waitFor();
    assert.match(await line.innerText(), new RegExp(`${ADA.name}:`), 'the sender is named');
    await page.locator('#chat').getByRole('heading', { name: 'Launch' }).waitFor();
  }
});

test('files in a channel: a small one inside the message, a larger one uploaded encrypted', LONG, async () => {
  const small = Buffer.from('Plan for the launch, page one\n');
  const large = Buffer.from(Array.from({ length: 9000 }, (_, i) => `LAUNCH-DECK-LINE ${i}\n`).join(''));
  await ada.locator('#chat-file').setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: small });
  await ada.locator('#chat .chat-file.out[data-state="queued"]', { hasText: 'plan.txt' }).waitFor();
  await ada.locator('#chat-file').setInputFiles({ name: 'deck.txt', mimeType: 'text/plain', buffer: large });
  await ada.locator('#chat .chat-file.out[data-state="queued"]', { hasText: 'deck.txt' }).waitFor();
  const panel = bob.locator('#chat');
  await panel.locator('.chat-file.in[data-state="verified"]', { hasText: 'plan.txt' }).waitFor();
  const deck = panel.locator('.chat-file.in', { hasText: 'deck.txt' });
  await deck.getByRole('button', { name: 'Download' }).click();
  await panel.locator('.chat-file.in[data-state="verified"]', { hasText: 'deck.txt' }).waitFor();
  const digest = createHash('sha256').update(large).digest('hex');
  assert.match(await deck.locator('.file-hash').innerText(), new RegExp(`^SHA-256 ${digest.slice(0, 16)}`), 'the digest Bob checked is the file\'s');
});

test('after Carol is removed, the next message reaches Bob and nothing is queued for her', LONG, async () => {
  const panel = ada.locator('#chat');
  await panel.getByRole('button', { name: 'Members' }).click();
  const members = ada.getByRole('dialog', { name: 'Members of Launch' });
  await members.getByRole('button', { name: `Remove ${CAROL.name}` }).click();
  await ada.getByText(`${CAROL.name} was removed. New messages use a new key.`).waitFor();
  await panel.getByText('2 members').waitFor();
  await carol.locator('#chat').getByText('You are no longer a member').waitFor();

  const box = ada.getByRole('textbox', { name: 'Message to Launch' });
  await box.fill('Just the two of us now');
  await box.press('Enter');
  await bob.locator('#chat .chat-msg.in', { hasText: 'Just the two of us now' }).waitFor();
  assert.equal(await waitingFor(carol), 0, 'nothing waits for Carol\'s device');
  assert.equal(await carol.locator('#chat .chat-msg', { hasText: 'Just the two of us now' }).count(), 0);
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
