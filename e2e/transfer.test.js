// Direct messages and a 5 MiB file over a data channel (hash compared, progress shown), then a
// server restart in the middle of the session: the pages reconnect by themselves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBureau } from './server.js';
import { openBrowser } from './browser.js';
import { enterOffice, waitPresence, officeOf } from './office.js';

const GRACE = { email: 'grace@example.test', name: 'Grace Hopper', password: 'cobol-compiler', admin: true };
const LINUS = { email: 'linus@example.test', name: 'Linus Pauling', password: 'vitamin-c-daily' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let grace;
/** @type {import('playwright-core').Page} */ let linus;
let dir = '';

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3 });
  for (const u of [GRACE, LINUS]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  grace = browsers[0].page;
  linus = browsers[1].page;
  await enterOffice(grace, GRACE);
  await enterOffice(linus, LINUS);
  dir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-files-'));
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a direct message arrives; a 5 MiB file arrives intact with progress shown', LONG, async () => {
  await waitPresence(grace, LINUS.name, 'online');
  await officeOf(grace, LINUS.name).locator('.owner-line').click();
  await grace.getByRole('dialog', { name: LINUS.name }).getByRole('button', { name: 'Message' }).click();
  const box = grace.getByRole('textbox', { name: `Message to ${LINUS.name}` });
  await box.fill('Hello Linus, the draft is ready.');
  await box.press('Enter');
  const panel = linus.locator('#chat');
  await panel.getByText('Hello Linus, the draft is ready.').waitFor({ timeout: 0 });
  assert.equal(await panel.getByRole('heading', { name: GRACE.name }).count(), 1);

  // Both pages note when a progress bar is shown.
  for (const page of [grace, linus]) {
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.sawProgress = false;
      new MutationObserver(() => { if (document.querySelector('#chat progress')) w.sawProgress = true; })
        .observe(document.body, { childList: true, subtree: true });
    });
  }
  const bytes = randomBytes(5 * 1024 * 1024);
  const expected = createHash('sha256').update(bytes).digest('hex');
  const file = path.join(dir, 'report.bin');
  await writeFile(file, bytes);
  await grace.locator('#chat-file').setInputFiles(file);

  const received = linus.locator('#chat .chat-file.in[data-state="verified"]');
  await received.waitFor({ timeout: 0 });
  await grace.locator('#chat .chat-file.out[data-state="verified"]').waitFor({ timeout: 0 });
  assert.match(await received.innerText(), /report\.bin/);
  assert.match(await received.innerText(), /Verified/);
  const got = await linus.evaluate(() => {
    const t = /** @type {any} */ (window).bureau.transfers;
    const entries = [...t.conversations.values()].flat().filter((/** @type {any} */ e) => e.kind === 'file');
    return entries.map((/** @type {any} */ e) => ({ hash: e.file.hash, size: e.file.size, done: e.file.done }));
  });
  assert.deepEqual(got, [{ hash: expected, size: bytes.length, done: bytes.length }]);
  assert.ok(await linus.evaluate(() => /** @type {any} */ (window).sawProgress), 'the receiver saw a progress bar');
  assert.ok(await grace.evaluate(() => /** @type {any} */ (window).sawProgress), 'the sender saw a progress bar');
  // The saved file is the file that was sent.
  const download = await Promise.all([linus.waitForEvent('download'), received.getByRole('link', { name: 'Save' }).click()]);
  const savedPath = await download[0].path();
  const { readFile } = await import('node:fs/promises');
  assert.equal(createHash('sha256').update(await readFile(savedPath)).digest('hex'), expected);
  assert.deepEqual(browsers[0].errors, []);
  assert.deepEqual(browsers[1].errors, []);
});

test('the server restarts mid-session: the pages reconnect by themselves and presence is right again', LONG, async () => {
  await linus.getByRole('button', { name: /set your presence/ }).click();
  const dialog = linus.getByRole('dialog', { name: 'My presence' });
  await dialog.getByLabel('Status').selectOption('away');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await waitPresence(grace, LINUS.name, 'away');
  const peersBefore = await Promise.all([grace, linus].map((p) => p.evaluate(() => /** @type {any} */ (window).bureau.signal.peerId)));

  await bureau.restart();
  for (const [i, page] of [grace, linus].entries()) {
    await page.waitForFunction((old) => {
      const s = /** @type {any} */ (window).bureau.signal;
      return s.status.state === 'open' && s.peerId && s.peerId !== old;
    }, peersBefore[i], { polling: 200, timeout: 0 });
  }
  // The status chosen before the restart is back, the colleague is online, and no banner stays.
  await waitPresence(grace, LINUS.name, 'away');
  await waitPresence(linus, GRACE.name, 'online');
  for (const page of [grace, linus]) await page.locator('#conn-banner').waitFor({ state: 'hidden', timeout: 0 });

  // Messages work over the new connection.
  await grace.getByRole('textbox', { name: `Message to ${LINUS.name}` }).fill('Still there?');
  await grace.getByRole('textbox', { name: `Message to ${LINUS.name}` }).press('Enter');
  await linus.locator('#chat').getByText('Still there?').waitFor({ timeout: 0 });
});
