// Two-factor sign-in in the browser: enrol an authenticator on the profile page (the QR code
// is drawn, the key is shown; the test computes the TOTP code like an app would), sign out,
// sign in with password and code; a recovery code works once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, signIn } from './browser.js';
import { totp } from './totp.js';

const USER = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine-1843' };

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
