// Direct messages and a 5 MiB file over a data channel (hash compared, progress shown), a file
// the sender cancels part-way, then a server restart in the middle of the session: the pages
// reconnect by themselves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, waitPresence, officeOf, pollUntil } from './office.js';

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

test('the sender cancels a file: both sides say so, nothing is saved or logged, the next file arrives', LONG, async () => {
  // The conversation with Linus is open from the first test.
  const name = 'archive.bin';
  const file = path.join(dir, name);
  await writeFile(file, randomBytes(64 * 1024 * 1024));
  await grace.locator('#chat-file').setInputFiles(file);
  const incoming = linus.locator('#chat .chat-file.in', { hasText: name });
  await incoming.locator('progress').waitFor({ timeout: 0 });
  await grace.locator('#chat .chat-file.out', { hasText: name }).getByRole('button', { name: 'Cancel' }).click();
  const sent = grace.locator('#chat .chat-file.out[data-state="cancelled"]', { hasText: name });
  await sent.getByText('Cancelled').waitFor();
  const received = linus.locator('#chat .chat-file.in[data-state="cancelled"]', { hasText: name });
  await received.getByText('Cancelled').waitFor({ timeout: 0 });
  assert.equal(await received.getByRole('link', { name: 'Save' }).count(), 0, 'nothing to save');
  assert.equal(await received.locator('progress').count(), 0);
  const kept = await linus.evaluate((n) => {
    const t = /** @type {any} */ (window).bureau.transfers;
    const entry = [...t.conversations.values()].flat().find((/** @type {any} */ e) => e.file && e.file.name === n);
    return { done: entry.file.done, size: entry.file.size, url: entry.file.url || '' };
  }, name);
  assert.equal(kept.url, '', 'no file was assembled');
  assert.ok(kept.done < kept.size, `stopped part-way (${kept.done} of ${kept.size} bytes)`);

  // The link survives the cancel: a small file goes through and is verified.
  const small = path.join(dir, 'notes.txt');
  const note = 'after the cancelled archive\n';
  await writeFile(small, note);
  await grace.locator('#chat-file').setInputFiles(small);
  await linus.locator('#chat .chat-file.in[data-state="verified"]', { hasText: 'notes.txt' }).waitFor({ timeout: 0 });
  // The file log (the sender's export) lists the files that arrived, not the cancelled one.
  /** @returns {Promise<number[]>} */
  const logged = async () => (await apiFromPage(grace, 'GET', '/api/me/export')).body.transfers
    .filter((/** @type {any} */ t) => t.kind === 'file').map((/** @type {any} */ t) => t.size);
  await pollUntil(grace, async (size) => (await (await fetch('/api/me/export')).json()).transfers.some((/** @type {any} */ t) => t.size === size), note.length);
  assert.deepEqual((await logged()).sort((a, b) => a - b), [note.length, 5 * 1024 * 1024]);
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});

test('the sender cancels while the file is still being read: the receiver is not left waiting', LONG, async () => {
  // Hold the sender's SHA-256 of the file until Cancel was clicked: the file is "still being
  // read" for as long as the test needs, however fast this machine is.
  await grace.evaluate(() => {
    const w = /** @type {any} */ (window);
    const digest = crypto.subtle.digest.bind(crypto.subtle);
    const held = new Promise((resolve) => { w.releaseDigest = resolve; });
    crypto.subtle.digest = async (algorithm, data) => {
      crypto.subtle.digest = digest;
      await held;
      return digest(algorithm, data);
    };
  });
  const name = 'early.bin';
  const file = path.join(dir, name);
  await writeFile(file, randomBytes(1024 * 1024));
  await grace.locator('#chat-file').setInputFiles(file);
  await grace.locator('#chat .chat-file.out', { hasText: name }).getByRole('button', { name: 'Cancel' }).click();
  await grace.locator('#chat .chat-file.out[data-state="cancelled"]', { hasText: name }).waitFor();
  await grace.evaluate(() => /** @type {any} */ (window).releaseDigest());
  // The sender is done with the file once its hash is known.
  await pollUntil(grace, async (n) => {
    const t = /** @type {any} */ (window).bureau.transfers;
    return [...t.conversations.values()].flat().some((/** @type {any} */ e) => e.file && e.file.name === n && e.file.hash);
  }, name);

  // A file sent after it arrives; by then Linus has no transfer of the cancelled one waiting.
  const next = path.join(dir, 'next.txt');
  await writeFile(next, 'the one that was meant\n');
  await grace.locator('#chat-file').setInputFiles(next);
  await linus.locator('#chat .chat-file.in[data-state="verified"]', { hasText: 'next.txt' }).waitFor({ timeout: 0 });
  assert.equal(await linus.locator('#chat .chat-file.in[data-state="receiving"]').count(), 0, 'no transfer left waiting');
  assert.equal(await linus.locator('#chat .chat-file.in', { hasText: name }).count(), 0, 'the cancelled file never reached Linus');
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
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
