// An administrator erases a user from the edit dialog: the user is gone from the table and the
// directory API, and can no longer sign in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'admin@example.test', name: 'Grete Admin', password: 'erasure-is-final', admin: true };
const MEMBER = { email: 'leaving@example.test', name: 'Lena Leaving', password: 'goodbye-and-thanks' };

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADMIN);
  await bureau.createUser(MEMBER);
});
after(async () => { if (bureau) await bureau.stop(); });

test('an administrator erases a user after confirming', async () => {
  const admin = await openBrowser(bureau);
  try {
    const page = admin.page;
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto(bureau.baseUrl + '/admin');
    const row = page.locator('.users-table tbody tr', { hasText: MEMBER.name });
    await row.waitFor();
    await page.getByRole('button', { name: `Edit ${MEMBER.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit ${MEMBER.name}` });
    await dialog.waitFor();
    page.once('dialog', (confirmation) => {
      assert.match(confirmation.message(), /cannot be undone/);
      void confirmation.accept();
    });
    await dialog.getByRole('button', { name: 'Erase…' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    const list = await apiFromPage(page, 'GET', '/api/users');
    assert.equal(list.status, 200);
    assert.ok(list.body.users.every((/** @type {{email: string}} */ u) => u.email !== MEMBER.email));
    const signInAgain = await apiFromPage(page, 'POST', '/api/auth/login', { email: MEMBER.email, password: MEMBER.password });
    assert.equal(signInAgain.status, 401);
  } finally {
    await admin.close();
  }
});
