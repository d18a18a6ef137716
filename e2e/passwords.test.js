// Passwords against a real `bureau serve` (issue #18): Ada, the administrator, adds Max with a
// first password; Max signs in and is taken to "Choose your password" whatever address he opens,
// his session serves nothing else (the live office stays shut), and once he chose his own he is
// in the office. He changes it again on his profile's Security card, which signs out his other
// browser. Max forgets it: Ada sets a new one, which signs him out, and he chooses his own again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, waitPresence } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const MAX = { email: 'max@example.test', name: 'Max Planck', first: 'first password 1', own: 'quantum of action', next: 'black body radiation' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let max;

before(async () => {
  bureau = await startBureau({});
  await bureau.createUser(ADA);
  for (let i = 0; i < 3; i++) browsers.push(await openBrowser(bureau));
  [ada, max] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * Signs in through the sign-in page without waiting for the office.
 * @param {import('playwright-core').Page} page
 * @param {string} password
 */
async function signInAsMax(page, password) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(MAX.email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Fills the "Choose your password" form.
 * @param {import('playwright-core').Page} page
 * @param {string} current
 * @param {string} chosen
 */
async function choose(page, current, chosen) {
  const form = page.getByRole('form', { name: 'Choose my password' });
  await form.getByLabel('Current password').fill(current);
  await form.getByLabel('New password', { exact: true }).fill(chosen);
  await form.getByLabel('New password again').fill(chosen);
  await form.getByRole('button', { name: 'Choose my password' }).click();
}

test('a first password from an administrator is changed before anything else', LONG, async () => {
  await ada.goto('/admin');
  await ada.getByRole('button', { name: '+ Add user' }).click();
  const dialog = ada.getByRole('dialog', { name: 'Add user' });
  await dialog.getByLabel('Name').fill(MAX.name);
  await dialog.getByLabel('Email').fill(MAX.email);
  await dialog.getByLabel('Initial password').fill(MAX.first);
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await dialog.waitFor({ state: 'detached' });

  await signInAsMax(max, MAX.first);
  await max.getByRole('heading', { name: 'Choose your password', level: 1 }).waitFor();
  await max.goto('/directory');
  await max.getByRole('heading', { name: 'Choose your password', level: 1 }).waitFor();
  assert.equal(await max.evaluate(() => location.pathname), '/choose-password');
  assert.equal((await apiFromPage(max, 'GET', '/api/users')).status, 403, 'the session serves nothing else');
  assert.equal(await max.evaluate(() => Boolean(/** @type {any} */ (window).bureau?.signal)), false, 'no live office');

  // Wrong current password, then two new ones that differ: said at the fields.
  await choose(max, 'not the password 1', MAX.own);
  await max.getByText('is not your current password').waitFor();
  const form = max.getByRole('form', { name: 'Choose my password' });
  await form.getByLabel('Current password').fill(MAX.first);
  await form.getByLabel('New password', { exact: true }).fill(MAX.own);
  await form.getByLabel('New password again').fill(MAX.own + ' typo');
  await form.getByRole('button', { name: 'Choose my password' }).click();
  await max.getByText('The two new passwords differ.').waitFor();
  await choose(max, MAX.first, MAX.own);
  await max.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await ada.goto('/office');
  await waitPresence(ada, MAX.name, 'online');
});

test('changing it on the Security card signs out the other browser', LONG, async () => {
  const other = browsers[2].page;
  await signInAsMax(other, MAX.own);
  await other.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await max.goto('/profile');
  await max.locator('summary', { hasText: 'Change password' }).click();
  const form = max.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(MAX.own);
  await form.getByLabel('New password', { exact: true }).fill(MAX.next);
  await form.getByLabel('New password again').fill(MAX.next);
  await form.getByRole('button', { name: 'Change password' }).click();
  await max.getByText('Your password was changed. Other devices were signed out.').waitFor();
  assert.equal((await apiFromPage(max, 'GET', '/api/users')).status, 200, 'this browser goes on');
  assert.equal((await apiFromPage(other, 'GET', '/api/me')).status, 401, 'the other one is signed out');
});

test('an administrator sets a new password for a member who forgot theirs', LONG, async () => {
  await ada.goto('/admin');
  await ada.getByRole('button', { name: `Edit ${MAX.name}` }).click();
  const edit = ada.getByRole('dialog', { name: `Edit ${MAX.name}` });
  await edit.getByRole('button', { name: 'Set a new password…' }).click();
  const set = ada.getByRole('dialog', { name: `New password for ${MAX.name}` });
  await set.getByLabel('New password', { exact: true }).fill('reset password 1');
  await set.getByRole('button', { name: 'Set password' }).click();
  await ada.getByText(`${MAX.name} has a new password and chooses their own at the next sign-in.`).waitFor();
  assert.equal((await apiFromPage(max, 'GET', '/api/me')).status, 401, 'Max was signed out');
  await signInAsMax(max, 'reset password 1');
  await max.getByRole('heading', { name: 'Choose your password', level: 1 }).waitFor();
  await choose(max, 'reset password 1', MAX.own);
  await max.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
});
