// Replies, edits, deletions, mentions and unread counts in the chat panel (web/ui/chat.js,
// web/live/mailbox.js). Ada and Bob are online: Bob answers Ada's line (the reply quotes it),
// Ada edits it and deletes another — Bob's page shows the new text marked "(edited)" and the
// deletion, peer to peer. Bob signs out; Ada edits and deletes while he is away, through the
// server; when Bob is back his page applies them to the lines his history kept. In a channel,
// a line that mentions Carol while her panel shows another conversation counts as unread in
// her tab's title and on the channel, with the mention, until she opens it. In a meeting room,
// "Room chat" opens the room's conversation: whoever opens it joins it and reads what follows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { signIn, signOut, apiFromPage } from './browser.js';
import { waitPresence, agreeToConsent, chatWith, messagingBrowsers } from './office.js';

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

/**
 * Sends a line from the open chat panel and waits until it shows.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Locator} box
 * @param {string} text
 */
async function say(page, box, text) {
  await box.fill(text);
  await box.press('Enter');
  await page.locator('#chat .chat-msg.out', { hasText: text }).waitFor();
}

/**
 * Deletes one of the user's lines through the confirmation dialog.
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
async function deleteLine(page, text) {
  const deleted = page.locator('#chat .chat-msg.out.deleted');
  const before = await deleted.count();
  await page.locator('#chat .chat-msg.out', { hasText: text }).getByRole('button', { name: `Delete ${text}` }).click();
  await page.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete message' }).click();
  await deleted.nth(before).getByText('You deleted this message.').waitFor();
  assert.equal(await page.locator('#chat .chat-msg', { hasText: text }).count(), 0, 'the line is gone from the page');
}

/**
 * Edits one of the user's lines from the message box.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Locator} box
 * @param {string} text
 * @param {string} edited
 */
async function editLine(page, box, text, edited) {
  await page.locator('#chat .chat-msg.out', { hasText: text }).getByRole('button', { name: `Edit ${text}` }).click();
  await page.locator('#chat-composing').getByText('Editing your message').waitFor();
  assert.equal(await box.inputValue(), text, 'the box holds the line to edit');
  await box.fill(edited);
  await box.press('Enter');
  await page.locator('#chat .chat-msg.out', { hasText: edited }).getByText('(edited)').waitFor();
}

test('online: a reply quotes its line; an edit and a deletion reach the colleague', LONG, async () => {
  await waitPresence(ada, BOB.name, 'online');
  const box = await chatWith(ada, BOB.name);
  await say(ada, box, 'Lunch at noon?');
  await say(ada, box, 'Bring the slides');
  const bobPanel = bob.locator('#chat');
  await bobPanel.locator('.chat-msg.in', { hasText: 'Bring the slides' }).waitFor();

  await bobPanel.locator('.chat-msg.in', { hasText: 'Lunch at noon?' }).getByRole('button', { name: 'Reply to Lunch at noon?' }).click();
  await bob.locator('#chat-composing').getByText(`Replying to ${ADA.name}:`).waitFor();
  const bobBox = bob.getByRole('textbox', { name: `Message to ${ADA.name}` });
  await say(bob, bobBox, 'Yes, see you there');
  const reply = ada.locator('#chat .chat-msg.in', { hasText: 'Yes, see you there' });
  await reply.waitFor();
  assert.equal((await reply.locator('.chat-reply').innerText()).trim(), '↪ you: Lunch at noon?', 'the reply quotes the line it answers');
  assert.equal(await bob.locator('#chat-composing').isHidden(), true, 'the box is back to plain messages');

  await editLine(ada, box, 'Lunch at noon?', 'Lunch at half past twelve?');
  const edited = bobPanel.locator('.chat-msg.in', { hasText: 'Lunch at half past twelve?' });
  await edited.getByText('(edited)').waitFor();
  assert.equal(await bobPanel.locator('.chat-msg', { hasText: 'Lunch at noon?' }).count(), 0, 'the old text is gone from Bob\'s page');
  await bobPanel.locator('.chat-msg.out', { hasText: 'Yes, see you there' }).locator('.chat-reply', { hasText: 'Lunch at half past twelve?' }).waitFor();

  await deleteLine(ada, 'Bring the slides');
  await bobPanel.getByText(`${ADA.name} deleted this message.`).waitFor();
  assert.equal(await bobPanel.locator('.chat-msg', { hasText: 'Bring the slides' }).count(), 0);
  // Bob cannot edit or delete Ada's lines: his page offers only Reply on them.
  assert.equal(await edited.getByRole('button', { name: /^(Edit|Delete) / }).count(), 0);
});

test('offline: edits and deletions wait on the server and change the lines Bob kept', LONG, async () => {
  const box = ada.getByRole('textbox', { name: `Message to ${BOB.name}` });
  await say(ada, box, 'Agenda draft one');
  await say(ada, box, 'A typo here');
  await bob.locator('#chat .chat-msg.in', { hasText: 'A typo here' }).waitFor();
  await signOut(bob);
  await waitPresence(ada, BOB.name, 'offline');

  await editLine(ada, box, 'Agenda draft one', 'Agenda final');
  await deleteLine(ada, 'A typo here');

  await signIn(bob, BOB.email, BOB.password);
  const bobPanel = bob.locator('#chat');
  // The edit came through the server and opened the conversation; the kept lines changed.
  await bobPanel.locator('.chat-msg.in', { hasText: 'Agenda final' }).getByText('(edited)').waitFor();
  await bobPanel.getByText(`${ADA.name} deleted this message.`).nth(1).waitFor();
  for (const gone of ['Agenda draft one', 'A typo here']) assert.equal(await bobPanel.locator('.chat-msg', { hasText: gone }).count(), 0, gone);
  // After a reload, the history this device kept has the changes too.
  await bob.reload();
  await bob.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await chatWith(bob, ADA.name);
  await bobPanel.locator('.chat-msg.in', { hasText: 'Agenda final' }).getByText('(edited)').waitFor();
  assert.equal(await bobPanel.locator('.chat-msg', { hasText: 'Agenda draft one' }).count(), 0);
});

test('a mention counts as unread in the title and on the channel until Carol opens it', LONG, async () => {
  await ada.locator('#chat').getByRole('button', { name: 'Close the conversation' }).click();
  await ada.getByRole('button', { name: 'New channel' }).click();
  const dialog = ada.getByRole('dialog', { name: 'New channel' });
  await dialog.getByLabel('Name').fill('Design');
  await dialog.getByLabel(BOB.name).check();
  await dialog.getByLabel(CAROL.name).check();
  await dialog.getByRole('button', { name: 'Create channel' }).click();
  const channel = carol.getByRole('list', { name: 'Team channels' }).getByRole('button', { name: /^Design/ });
  await channel.waitFor();
  // Carol's panel shows her conversation with Bob: what arrives in the channel stays unread.
  await chatWith(carol, BOB.name);

  const box = ada.getByRole('textbox', { name: 'Message to Design' });
  await say(ada, box, 'Morning all');
  await say(ada, box, `@${CAROL.name} can you review the mock-ups?`);
  await carol.waitForFunction(() => document.title.startsWith('(2) '));
  await channel.getByText('(2 unread, 1 mentioning you)').waitFor();

  await channel.click();
  const mention = carol.locator('#chat .chat-msg.in.mention', { hasText: 'can you review the mock-ups?' });
  await mention.getByText('mentions you').waitFor();
  assert.equal(await carol.locator('#chat .chat-msg.in.mention').count(), 1, 'only the line that names her');
  await carol.waitForFunction(() => !/^\(\d+\) /.test(document.title));
  assert.equal(await channel.locator('.unread-badge').count(), 0);
  for (const b of browsers) assert.deepEqual(b.errors, []);
});

test('the chat of a meeting room: whoever opens it joins it', LONG, async () => {
  const made = await apiFromPage(ada, 'POST', '/api/rooms', { name: 'Harbour' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  for (const page of [ada, bob]) {
    await agreeToConsent(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Office' }).click();
    await page.getByRole('button', { name: 'Walk in: Harbour' }).click();
    await page.locator('#stage').getByRole('button', { name: 'Room chat' }).click();
    await page.locator('#chat').getByRole('heading', { name: 'Harbour' }).waitFor();
  }
  await ada.locator('#chat').getByText('2 members').waitFor();
  await say(ada, ada.getByRole('textbox', { name: 'Message to Harbour' }), 'Agenda is on the whiteboard');
  await bob.locator('#chat .chat-msg.in', { hasText: 'Agenda is on the whiteboard' }).waitFor();
  await bob.getByRole('list', { name: 'Team channels' }).getByText('room chat · 2 members').waitFor();
  // The open chat panel leaves the call's controls free: Leave can be clicked (a trial click
  // fails when another element would receive it).
  await bob.locator('#stage').getByRole('button', { name: 'Leave' }).click({ trial: true });
  for (const b of browsers) assert.deepEqual(b.errors, []);
});
