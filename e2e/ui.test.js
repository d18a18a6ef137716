// The office UI in states that are hard to reach on cue with the real server: a declined call
// (with the keyboard), a busy colleague, a cancelled ring, a dropped connection with its banner
// and what is re-sent after it, a cancelled file, an offline colleague. The pages talk to a
// scripted hub (fake-hub.js); sign-in and the REST API are the real server's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBureau } from './server.js';
import { openBrowser } from './browser.js';
import { FakeHub } from './fake-hub.js';
import { enterOffice, waitPresence, officeOf } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {FakeHub} */
let hub;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
let dir = '';

before(async () => {
  bureau = await startBureau();
  /** @type {{id: string, name: string}[]} */
  const users = [];
  for (const u of [ADA, BOB, CAROL]) {
    await bureau.createUser(u);
    const res = await fetch(bureau.httpUrl + '/api/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: u.email, password: u.password }),
    });
    users.push({ id: (await res.json()).user.id, name: u.name });
  }
  hub = new FakeHub(users, [
    { id: 'room-1', name: 'Fishbowl', kind: 'meeting' },
    ...users.map((u) => ({ id: 'office-' + u.id, name: u.name, kind: 'office', owner_user_id: u.id, capacity: 4 })),
  ]);
  for (const user of users.slice(0, 2)) {
    const b = await openBrowser(bureau);
    await hub.attach(b.context, user);
    browsers.push(b);
  }
  [ada, bob] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
  await enterOffice(bob, BOB);
  dir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-ui-'));
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** @param {import('playwright-core').Page} page @param {string} name */
async function ring(page, name) {
  await officeOf(page, name).locator('.owner-line').click();
  await page.getByRole('dialog', { name }).getByRole('button', { name: 'Call' }).click();
}

test('an offline colleague cannot be called; a message or a file can wait for them', LONG, async () => {
  await waitPresence(ada, CAROL.name, 'offline');
  await officeOf(ada, CAROL.name).locator('.owner-line').click();
  const card = ada.getByRole('dialog', { name: CAROL.name });
  await card.getByText(`${CAROL.name} is offline. A message or a file waits for ${CAROL.name}, encrypted; calls need both of you online.`).waitFor();
  assert.equal(await card.getByRole('button', { name: 'Call' }).isDisabled(), true);
  for (const name of ['Message', 'Send file']) assert.equal(await card.getByRole('button', { name }).isDisabled(), false);
  await ada.keyboard.press('Escape');
});

test('declining with the keyboard; the caller sees it', LONG, async () => {
  await ring(ada, BOB.name);
  await ada.locator('#stage .outgoing').getByText(`Ringing… ${BOB.name}`).waitFor();
  const dialog = bob.getByRole('dialog', { name: 'Incoming call' });
  await dialog.waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Accept' }).evaluate((el) => el === document.activeElement), true, 'Accept has the focus');
  await bob.keyboard.press('Escape'); // Escape declines
  await dialog.waitFor({ state: 'detached' });
  await ada.locator('#stage .outgoing').getByText(`${BOB.name} declined the call.`).waitFor();
  await ada.getByRole('button', { name: 'Dismiss' }).click();
  await ada.locator('#stage').waitFor({ state: 'hidden' });
});

test('a busy colleague, and a ring the caller cancels', LONG, async () => {
  await bob.getByRole('button', { name: /set your presence/ }).click();
  const presence = bob.getByRole('dialog', { name: 'My presence' });
  await presence.getByLabel('Status').selectOption('dnd');
  await presence.getByRole('button', { name: 'Save' }).click();
  await waitPresence(ada, BOB.name, 'dnd');
  await ring(ada, BOB.name);
  await ada.locator('#stage .outgoing').getByText(`${BOB.name} is busy.`).waitFor();
  await ada.getByRole('button', { name: 'Dismiss' }).click();

  await bob.getByRole('button', { name: /set your presence/ }).click();
  await presence.getByLabel('Status').selectOption('online');
  await presence.getByRole('button', { name: 'Save' }).click();
  await waitPresence(ada, BOB.name, 'online');
  await ring(ada, BOB.name);
  const dialog = bob.getByRole('dialog', { name: 'Incoming call' });
  await dialog.waitFor();
  await ada.locator('#stage .outgoing').getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await ada.locator('#stage').waitFor({ state: 'hidden' });
});

test('a dropped connection shows the banner, then presence and the room are re-applied', LONG, async () => {
  await bob.getByRole('button', { name: /set your presence/ }).click();
  const presence = bob.getByRole('dialog', { name: 'My presence' });
  await presence.getByLabel('Status').selectOption('away');
  await presence.getByRole('button', { name: 'Save' }).click();
  await ada.getByRole('button', { name: 'Walk in: Fishbowl' }).click();
  await ada.locator('#stage .stage-title').getByText('Fishbowl').waitFor();
  const before = hub.received.length;

  hub.dropAll();
  const banner = ada.locator('#conn-banner');
  await banner.getByText('Reconnecting to the office').waitFor();
  await banner.waitFor({ state: 'hidden' });
  await waitPresence(ada, BOB.name, 'away');
  const again = hub.received.slice(before);
  assert.ok(again.some((m) => m.type === 'set_presence' && m.status === 'away'), 'Bob re-sent his status');
  assert.ok(again.some((m) => m.type === 'join_room' && m.room_id === 'room-1'), 'Ada walked back into the room');
  await ada.locator('#stage .stage-title').getByText('Fishbowl').waitFor();
  await ada.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  await ada.locator('#stage').waitFor({ state: 'hidden' });
});

test('the receiver cancels a file; both sides say so', LONG, async () => {
  await officeOf(ada, BOB.name).locator('.owner-line').click();
  await ada.getByRole('dialog', { name: BOB.name }).getByRole('button', { name: 'Message' }).click();
  const file = path.join(dir, 'big.bin');
  await writeFile(file, randomBytes(64 * 1024 * 1024));
  await ada.locator('#chat-file').setInputFiles(file);
  const incoming = bob.locator('#chat .chat-file.in');
  await incoming.locator('progress').waitFor();
  await incoming.getByRole('button', { name: 'Cancel' }).click();
  await bob.locator('#chat .chat-file.in[data-state="cancelled"]').waitFor();
  await ada.locator('#chat .chat-file.out[data-state="cancelled"]').waitFor();
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});
