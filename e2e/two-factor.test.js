// Two-factor sign-in in the browser: enrol an authenticator on the profile page (the QR code
// is drawn, the key is shown; the test computes the TOTP code like an app would), sign out,
// sign in with password and code; a recovery code works once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startBureau } from './server.js';
import { openBrowser, signIn } from './browser.js';

const USER = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine-1843' };

/**
 * The RFC 6238 code of a base32 secret, `offset` steps from now.
 * @param {string} base32
 * @param {number} offset
 * @returns {string}
 */
function totp(base32, offset) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/\s+/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const digest = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const at = digest[19] & 0x0f;
  const value = (digest.readUInt32BE(at) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, '0');
}

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(USER);
});
after(async () => { if (bureau) await bureau.stop(); });

/**
 * Fills in email and password and waits for the second step.
 * @param {import('playwright-core').Page} page
 */
async function password(page) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(USER.email);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('form', { name: 'Second step of the sign-in' }).waitFor();
}

test('enrol an authenticator, then sign in with password and code; a recovery code works once', async () => {
  let secret = '';
  let recovery = '';
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await signIn(page, USER.email, USER.password);
    await page.goto('/profile');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const modules = await page.locator('svg.qr path').getAttribute('d');
    assert.ok(modules && modules.length > 1000, 'the QR code has modules');
    secret = (await page.locator('.totp-secret').textContent() || '').replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const code = page.getByLabel('Code shown by the app');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await code.fill(totp(secret, 0));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const list = page.getByRole('list', { name: 'Recovery codes' });
    await list.waitFor();
    const codes = await list.locator('code').allTextContents();
    assert.equal(codes.length, 10);
    recovery = codes[0];
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Two-factor sign-in is on.').waitFor();

    await page.getByRole('button', { name: /account menu/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');

    // Password, then the authenticator's code (the next step's: the enrolment used this one).
    await password(page);
    const field = page.getByLabel('Code', { exact: true });
    assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
    await field.fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/office');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }

  // A recovery code signs in once.
  for (const attempt of ['first', 'second']) {
    const c = await openBrowser(bureau);
    try {
      const { page } = c;
      await password(page);
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(recovery);
      await page.getByRole('button', { name: 'Verify' }).click();
      if (attempt === 'first') {
        await page.waitForURL('**/office');
      } else {
        await page.locator('.form-error[role="alert"]').getByText('The code is not correct.').waitFor();
        assert.equal(new URL(page.url()).pathname, '/login');
      }
    } finally {
      await c.close();
    }
  }
});
