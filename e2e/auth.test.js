// (b) sign-in errors and success, (e) the sign-in form by keyboard only, (f) signing out.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADMIN);
});
after(async () => { if (bureau) await bureau.stop(); });

test('a wrong password shows the generic error; the right one signs in', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('.form-error[role="alert"]');
    await alert.getByText('The email address or password is not correct.').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the wrong password is cleared');

    // An unknown account gets exactly the same message (no account enumeration).
    await page.getByLabel('Email').fill('nobody@example.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert.getByText('The email address or password is not correct.').waitFor();

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/office');
    await page.goto('/directory');
    await page.locator('.person', { hasText: ADMIN.name }).waitFor();
    await page.getByRole('button', { name: /Grace Hopper/ }).first().waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the sign-in form works with the keyboard only', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await page.goto('/login');
    const email = page.getByLabel('Email');
    await email.waitFor();
    // The email field has the focus on arrival; otherwise reach it with Tab.
    for (let i = 0; i < 10 && !(await email.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await email.evaluate((el) => el === document.activeElement), 'the email field is reachable by keyboard');
    await page.keyboard.type(ADMIN.email);
    await page.keyboard.press('Tab');
    assert.ok(await page.getByLabel('Password').evaluate((el) => el === document.activeElement), 'Tab moves to the password');
    await page.keyboard.type(ADMIN.password);
    await page.keyboard.press('Tab');
    assert.ok(await page.getByRole('button', { name: 'Sign in' }).evaluate((el) => el === document.activeElement), 'Tab moves to the button');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/office');
    await page.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  } finally {
    await b.close();
  }
});

test('signing out returns to the sign-in page and ends the session', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await signIn(page, ADMIN.email, ADMIN.password);
    assert.equal((await apiFromPage(page, 'GET', '/api/me')).status, 200);
    await page.getByRole('button', { name: /account menu/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in to Bureau' }).waitFor();
    const me = await apiFromPage(page, 'GET', '/api/me');
    assert.equal(me.status, 401);
    assert.equal(me.body.code, 'unauthenticated');
    // Pages that need a session send you back to sign in.
    await page.goto('/directory');
    await page.waitForURL('**/login');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  } finally {
    await b.close();
  }
});

test('after too many failures the sign-in page says when to try again', async () => {
  const victim = { email: 'locked@example.test', name: 'Locked Out', password: 'the-right-password' };
  await bureau.createUser(victim);
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await page.goto('/login');
    let limited = false;
    for (let i = 0; i < 15 && !limited; i++) {
      const answer = await apiFromPage(page, 'POST', '/api/auth/login', { email: victim.email, password: `wrong-${i}-attempt` });
      limited = answer.status === 429;
      if (limited) assert.equal(answer.body.code, 'rate_limited');
      else assert.equal(answer.status, 401);
    }
    assert.ok(limited, 'repeated failures are rate limited');
    await page.getByLabel('Email').fill(victim.email);
    await page.getByLabel('Password').fill(victim.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.form-error[role="alert"]').getByText(/Too many attempts\. Please (try again|wait)/).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
  } finally {
    await b.close();
  }
});
