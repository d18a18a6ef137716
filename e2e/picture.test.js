// The profile picture in the browser: files that are not pictures, or too large, are refused
// before anything is sent; a server refusal is shown as it is; a real PNG is uploaded on
// "My profile", a colleague sees it in the directory and on the office floor plan, and after
// the owner removes it (confirmed) the initials are back. A colleague's open office page follows
// a new, replaced or removed picture without a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';
import { officeOf } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const GRACE = { email: 'grace@example.test', name: 'Grace Hopper', password: 'compiler-a-0-1952' };
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADA);
  await bureau.createUser(GRACE);
});
after(async () => { if (bureau) await bureau.stop(); });

/**
 * @param {Buffer} bytes
 * @returns {number} The CRC-32 of PNG chunks.
 */
function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A valid PNG: `size` × `size` pixels of one RGB colour.
 * @param {number} size
 * @param {[number, number, number]} rgb
 * @returns {Buffer}
 */
function png(size, rgb) {
  /** @param {string} type @param {Buffer} data */
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The natural width of the first loaded image in the locator (waits for it to load).
 * @param {import('playwright-core').Locator} img
 * @returns {Promise<number>}
 */
async function loadedWidth(img) {
  await img.waitFor();
  return img.evaluate(async (el) => {
    const image = /** @type {HTMLImageElement} */ (el);
    if (!image.complete) await new Promise((resolve) => image.addEventListener('load', resolve, { once: true }));
    return image.naturalWidth;
  });
}

test('a member uploads a picture, a colleague sees it, the member removes it', LONG, async () => {
  const grace = await openBrowser(bureau);
  const ada = await openBrowser(bureau);
  try {
    const page = grace.page;
    /** @type {string[]} */
    const uploads = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/api/me/picture') && req.method() === 'PUT') uploads.push(req.url());
    });
    await signIn(page, GRACE.email, GRACE.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My profile' }).click();
    await page.getByRole('form', { name: 'Edit my profile' }).waitFor();
    const head = page.locator('.detail-head');
    const controls = page.getByRole('group', { name: 'Profile picture' });
    const input = page.getByLabel('Change picture');
    const error = controls.getByRole('alert');
    assert.equal(await head.locator('.avatar').innerText(), 'GH');
    assert.equal(await head.locator('.avatar img').count(), 0);
    assert.equal(await controls.getByRole('button', { name: 'Remove picture' }).isVisible(), false);
    assert.equal(await input.getAttribute('accept'), 'image/png,image/jpeg,image/webp');

    // Not a picture (by its type, or by its content despite the name): refused in the browser.
    await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await error.getByText('“notes.txt” is not a PNG, JPEG or WebP image.', { exact: false }).waitFor();
    await input.setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('<script>alert(1)</script>') });
    await error.getByText('“fake.png” is not a PNG, JPEG or WebP image.', { exact: false }).waitFor();
    // Too large: refused with the limit named.
    const big = Buffer.concat([png(8, [0, 0, 0]), Buffer.alloc(300 * 1024)]);
    await input.setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: big });
    await error.getByText('a picture can be at most 256 KiB', { exact: false }).waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');

    // A refusal by the server is shown as the server words it.
    await page.route('**/api/me/picture', (route) => route.fulfill({
      status: 422, contentType: 'application/json',
      body: JSON.stringify({ code: 'invalid', field: 'data_url', message: 'must be a PNG, JPEG or WebP image' }),
    }));
    await input.setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(8, [200, 40, 40]) });
    await error.getByText('Must be a PNG, JPEG or WebP image.').waitFor();
    await page.unroute('**/api/me/picture');
    assert.equal(uploads.length, 1, 'only the file that passed the checks was sent');
    assert.equal((await apiFromPage(page, 'GET', '/api/me')).body.has_picture, false);

    // A real PNG, chosen with the keyboard: uploaded, shown on the profile and in the top bar.
    await input.focus();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    await chooser.setFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(8, [30, 120, 200]) });
    await page.getByText('Your picture has been saved.').waitFor();
    assert.equal(uploads.length, 2);
    assert.equal(await error.isVisible(), false);
    assert.equal(await loadedWidth(head.locator('.avatar img')), 8);
    assert.ok(await loadedWidth(page.locator('.user-button .avatar img')) > 0, 'the top bar shows the picture');
    const me = (await apiFromPage(page, 'GET', '/api/me')).body;
    assert.equal(me.has_picture, true);
    await page.reload();
    assert.equal(await loadedWidth(head.locator('.avatar img')), 8);

    // A colleague sees it in the directory, on the card and in the detail dialog, and on the floor plan.
    await signIn(ada.page, ADA.email, ADA.password);
    const tile = officeOf(ada.page, GRACE.name);
    assert.ok(await loadedWidth(tile.locator('.owner-line .avatar img')) > 0, 'the office tile shows the picture');
    await ada.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Directory' }).click();
    const card = ada.page.locator('.person', { hasText: GRACE.name });
    const cardImg = card.locator('.avatar img');
    assert.equal(await loadedWidth(cardImg), 8);
    // The address may carry the version of the picture, so that a new one is fetched anew.
    assert.match(String(await cardImg.getAttribute('src')), new RegExp(`^/api/users/${me.id}/picture(\\?v=v\\d+)?$`));
    assert.equal(await cardImg.getAttribute('alt'), '');
    await card.getByRole('button', { name: GRACE.name, exact: true }).click();
    const detail = ada.page.getByRole('dialog', { name: 'Colleague' });
    assert.equal(await loadedWidth(detail.locator('.avatar img')), 8);
    await ada.page.keyboard.press('Escape');
    // Ada has none: her card keeps the initials.
    assert.equal(await ada.page.locator('.person', { hasText: ADA.name }).locator('.avatar').innerText(), 'AL');

    // Grace removes it, after confirming; cancelling keeps it.
    const remove = controls.getByRole('button', { name: 'Remove picture' });
    await remove.click();
    let confirm = page.getByRole('dialog', { name: 'Remove your picture?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal((await apiFromPage(page, 'GET', '/api/me')).body.has_picture, true);
    await remove.click();
    confirm = page.getByRole('dialog', { name: 'Remove your picture?' });
    await confirm.getByRole('button', { name: 'Remove picture' }).click();
    await page.getByText('Your picture has been removed.').waitFor();
    assert.equal(await head.locator('.avatar img').count(), 0);
    assert.equal(await head.locator('.avatar').innerText(), 'GH');
    assert.equal(await page.locator('.user-button .avatar').innerText(), 'GH');
    await remove.waitFor({ state: 'hidden' });
    assert.equal((await apiFromPage(page, 'GET', '/api/me')).body.has_picture, false);

    // The colleague sees the initials again.
    await ada.page.reload();
    await card.waitFor();
    assert.equal(await cardImg.count(), 0);
    assert.equal(await card.locator('.avatar').innerText(), 'GH');
    assert.deepEqual(grace.errors, []);
    assert.deepEqual(ada.errors, []);
  } finally {
    await grace.close();
    await ada.close();
  }
});

test('an open office page follows a colleague setting, replacing and removing a picture', LONG, async () => {
  const grace = await openBrowser(bureau);
  const ada = await openBrowser(bureau);
  try {
    await signIn(grace.page, GRACE.email, GRACE.password);
    await signIn(ada.page, ADA.email, ADA.password);
    const avatar = officeOf(ada.page, GRACE.name).locator('.owner-line .avatar');
    /** @param {Buffer} picture */
    const upload = async (picture) => {
      const data_url = 'data:image/png;base64,' + picture.toString('base64');
      assert.equal((await apiFromPage(grace.page, 'PUT', '/api/me/picture', { data_url })).status, 204);
    };
    /** @param {number} width Waits until Ada's page shows Grace's picture of that width (drawn anew or not). */
    const shows = (width) => ada.page.waitForFunction(([sel, want]) => {
      const img = /** @type {HTMLImageElement|null} */ (document.querySelector(String(sel)));
      return Boolean(img && img.complete && img.naturalWidth === want);
    }, [`article.room-tile[aria-label="Office of ${GRACE.name}"] .owner-line .avatar img`, width]);
    await apiFromPage(grace.page, 'DELETE', '/api/me/picture');
    await ada.page.reload();
    await avatar.getByText('GH').waitFor();

    await upload(png(8, [30, 120, 200]));
    await shows(8);
    // Replaced by another picture: the page fetches the new one.
    await upload(png(16, [200, 120, 30]));
    await shows(16);
    // Removed: the initials are back.
    assert.equal((await apiFromPage(grace.page, 'DELETE', '/api/me/picture')).status, 204);
    await avatar.getByText('GH').waitFor();
    assert.equal(await avatar.locator('img').count(), 0);
    assert.deepEqual(grace.errors, []);
    assert.deepEqual(ada.errors, []);
  } finally {
    await grace.close();
    await ada.close();
  }
});
