// The live office against a real `bureau serve`: presence, a one-to-one call (direct and through
// Bureau's own TURN server), and a three-person room that one leaves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, waitPresence, callAndAccept, waitForFrames, peerStats, officeOf, pollUntil } from './office.js';

const ALICE = { email: 'alice@example.test', name: 'Alice Ball', password: 'chaulmoogra-oil', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let alice;
/** @type {import('playwright-core').Page} */ let bob;

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3 });
  for (const u of [ALICE, BOB, CAROL]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  alice = browsers[0].page;
  bob = browsers[1].page;
  await enterOffice(alice, ALICE);
  await enterOffice(bob, BOB);
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

test('two colleagues see each other online; a status change reaches the other', LONG, async () => {
  await waitPresence(alice, BOB.name, 'online');
  await waitPresence(bob, ALICE.name, 'online');
  await waitPresence(alice, CAROL.name, 'offline');

  await bob.getByRole('button', { name: /set your presence/ }).click();
  const dialog = bob.getByRole('dialog', { name: 'My presence' });
  await dialog.getByLabel('Status').selectOption('busy');
  await dialog.getByLabel('Where I work today').selectOption('home_office');
  await dialog.getByLabel('Note').fill('Deep work until noon');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await waitPresence(alice, BOB.name, 'busy');
  const line = await officeOf(alice, BOB.name).locator('.owner-line').innerText();
  assert.match(line, /Home office/);
  assert.match(line, /Deep work until noon/);

  // Back to online for the calls (a busy colleague can still be called; dnd would refuse).
  await bob.getByRole('button', { name: /set your presence/ }).click();
  await dialog.getByLabel('Status').selectOption('online');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await waitPresence(alice, BOB.name, 'online');
  assert.deepEqual(browsers[0].errors, []);
  assert.deepEqual(browsers[1].errors, []);
});

test('a call: the callee accepts and both receive video', LONG, async () => {
  await callAndAccept(alice, bob, BOB.name, ALICE.name);
  const a = await waitForFrames(alice, 1);
  const b = await waitForFrames(bob, 1);
  assert.ok(a[0].framesDecoded > 0 && b[0].framesDecoded > 0);
  await waitPresence(bob, ALICE.name, 'in_call');
  await alice.locator('#stage .video-tile:not(.self)').waitFor();
  await alice.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Mute' }).click();
  await bob.locator('#stage .video-tile.muted:not(.self)').waitFor({ timeout: 0 });

  await bob.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  await alice.waitForFunction(() => /** @type {any} */ (window).bureau.peerConnections.size === 0, null, { timeout: 0 });
  await alice.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
  await waitPresence(bob, ALICE.name, 'online');
  await alice.evaluate(() => /** @type {any} */ (window).bureau.media.setMuted(false));

  // The call is in the call history of both.
  await pollUntil(alice, async () => {
    const res = await fetch('/api/me/calls');
    return res.ok && (await res.json()).calls.length > 0;
  }, null);
  const calls = await apiFromPage(alice, 'GET', '/api/me/calls');
  assert.equal(calls.body.calls[0].participants.length, 2);
});

test('the same call relayed through the built-in TURN server', LONG, async () => {
  for (const page of [alice, bob]) await page.evaluate(() => localStorage.setItem('bureau.iceTransportPolicy', 'relay'));
  try {
    await callAndAccept(bob, alice, ALICE.name, BOB.name);
    for (const page of [alice, bob]) {
      const [stats] = await waitForFrames(page, 1);
      assert.equal(stats.policy, 'relay');
      assert.equal(stats.localType, 'relay', 'the selected pair goes through TURN');
      assert.ok(stats.framesDecoded > 0);
    }
    /** @type {string[]} */
    const urls = await alice.evaluate(() => /** @type {any[]} */ ((/** @type {any} */ (window)).bureau.signal.iceServers).flatMap((s) => [].concat(s.urls)));
    const port = bureau.turnListen.split(':')[1];
    assert.ok(urls.some((u) => u.startsWith('turn') && u.includes(':' + port)), `TURN on port ${port} in ${urls.join(' ')}`);
  } finally {
    for (const page of [alice, bob]) await page.evaluate(() => localStorage.removeItem('bureau.iceTransportPolicy'));
    await alice.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
    await bob.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
  }
});

test('three meet in a room; one leaves; the other two keep their call', LONG, async () => {
  const created = await apiFromPage(alice, 'POST', '/api/rooms', { name: 'Fishbowl', kind: 'meeting', capacity: 6 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const carolBrowser = await openBrowser(bureau);
  browsers.push(carolBrowser);
  const carol = carolBrowser.page;
  await enterOffice(carol, CAROL);
  for (const page of [alice, bob, carol]) {
    await page.getByRole('button', { name: 'Walk in: Fishbowl' }).click();
  }
  const stats = await Promise.all([alice, bob, carol].map((p) => waitForFrames(p, 2)));
  for (const s of stats) assert.equal(s.length, 2);
  await alice.locator('article[data-room-id] .occupants li').nth(2).waitFor({ timeout: 0 });

  await carol.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => /** @type {any} */ (window).bureau.peerConnections.size === 1, null, { timeout: 0 });
  }
  const before = await Promise.all([alice, bob].map((p) => peerStats(p)));
  const after = await Promise.all([alice, bob].map((p, i) => waitForFrames(p, 1, before[i][0].framesDecoded + 10)));
  for (const [i, s] of after.entries()) assert.ok(s[0].framesDecoded > before[i][0].framesDecoded);
  for (const page of [alice, bob]) await page.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  assert.deepEqual(carolBrowser.errors, []);
});

test('an admin adds, renames and deletes a room; colleagues see the floor plan change', LONG, async () => {
  await alice.goto('/admin');
  await alice.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
  await alice.getByRole('button', { name: 'Add room' }).click();
  const dialog = alice.getByRole('dialog', { name: 'Add room' });
  await dialog.getByLabel('Name').fill('Library');
  await dialog.getByLabel('Kind').selectOption('reception');
  await dialog.getByLabel('Capacity').fill('4');
  await dialog.getByRole('button', { name: 'Add room' }).click();
  await dialog.waitFor({ state: 'detached' });
  await bob.locator('article.room-reception[aria-label="Library"]').waitFor({ timeout: 0 });

  await alice.getByLabel('Name of Library').fill('Quiet library');
  await alice.getByRole('button', { name: 'Save Library' }).click();
  await bob.locator('article.room-tile[aria-label="Quiet library"]').getByText('0/4').waitFor({ timeout: 0 });

  // Marked large with the keyboard alone: the checkbox has a name, Tab reaches the row's Save.
  const large = alice.getByRole('checkbox', { name: 'Quiet library: large, always through the media server' });
  await large.focus();
  await alice.keyboard.press('Space');
  assert.equal(await large.isChecked(), true);
  await alice.keyboard.press('Tab');
  await alice.keyboard.press('Enter');
  await pollUntil(alice, async (name) => (await (await fetch('/api/rooms')).json()).rooms.some((/** @type {any} */ r) => r.name === name && r.large === true), 'Quiet library');

  // The reception becomes a meeting room: Bob's floor plan moves it among the meeting rooms.
  await alice.getByLabel('Kind of Quiet library').selectOption('meeting');
  await alice.getByRole('button', { name: 'Save Quiet library' }).click();
  await bob.locator('article.room-meeting[aria-label="Quiet library"]').waitFor({ timeout: 0 });

  // The organisation's threshold: refused out of bounds at the field, saved, and emptied again.
  const media = alice.getByRole('form', { name: 'When rooms use the media server' });
  const threshold = media.getByLabel('People at which a room uses the media server');
  await threshold.fill('1');
  await media.getByRole('button', { name: 'Save threshold' }).click();
  await media.getByText('Enter a whole number of people from 2 to 100, or leave it empty.').waitFor();
  await threshold.fill('3');
  await media.getByRole('button', { name: 'Save threshold' }).click();
  await pollUntil(alice, async (want) => (await (await fetch('/api/org')).json()).sfu_threshold === want, 3);
  await threshold.fill('');
  await media.getByRole('button', { name: 'Save threshold' }).click();
  await pollUntil(alice, async (want) => (await (await fetch('/api/org')).json()).sfu_threshold === want, null);

  await alice.getByRole('button', { name: 'Delete Quiet library' }).click();
  await alice.getByRole('dialog', { name: 'Delete Quiet library?' }).getByRole('button', { name: 'Delete room' }).click();
  await bob.locator('article.room-tile[aria-label="Quiet library"]').waitFor({ state: 'detached', timeout: 0 });
  await alice.goto('/office');
  await alice.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  assert.deepEqual(browsers[0].errors, []);
});
