// (c) An administrator adds a member through the dialog; the member is found in the directory,
// signs in elsewhere, sees no Admin link and is refused by the admin API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'admin@example.test', name: 'Katherine Johnson', password: 'orbital-mechanics', admin: true };
const MEMBER = { email: 'dorothy@example.test', name: 'Dorothy Vaughan', password: 'fortran-for-all' };
/** The first password, which the administrator chooses and the member replaces. */
const INITIAL = 'given by the admin 1';

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADMIN);
});
after(async () => { if (bureau) await bureau.stop(); });

test('admin adds a member, who appears in the directory and has no admin powers', async () => {
  const admin = await openBrowser(bureau);
  const member = await openBrowser(bureau);
  try {
    const page = admin.page;
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
    await page.waitForURL('**/admin');
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add user' });
    await dialog.waitFor();
    await dialog.getByLabel('Name').fill(MEMBER.name);
    await dialog.getByLabel('Email').fill(MEMBER.email);
    await dialog.getByLabel('Role').selectOption('member');
    await dialog.getByLabel('Create rooms').check();
    await dialog.getByLabel('Initial password').fill(INITIAL);
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('.users-table tbody tr', { hasText: MEMBER.name });
    await row.waitFor();
    assert.match(await row.innerText(), /Member/);
    assert.match(await row.innerText(), /Active/);

    // The same email again is refused next to the email field.
    await page.getByRole('button', { name: 'Add user' }).click();
    const again = page.getByRole('dialog', { name: 'Add user' });
    await again.getByLabel('Name').fill('Someone Else');
    await again.getByLabel('Email').fill(MEMBER.email);
    await again.getByRole('button', { name: 'Add user' }).click();
    await again.locator('.field[data-field="email"] .field-error:not([hidden])').waitFor();
    await page.keyboard.press('Escape');
    await again.waitFor({ state: 'detached' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Directory' }).click();
    await page.waitForURL('**/directory');
    await page.getByRole('searchbox', { name: 'Search the directory' }).fill('Dorothy');
    await page.getByText('1 person found').waitFor();
    const cards = page.locator('.person');
    assert.equal(await cards.count(), 1);
    assert.match(await cards.first().innerText(), /Dorothy Vaughan/);
    await page.getByRole('searchbox', { name: 'Search the directory' }).fill('no-such-person-xyz');
    await page.getByText('Nobody matches this search.').waitFor();

    // The first password was the administrator's: the member chooses their own first.
    const mp = member.page;
    await mp.goto('/login');
    await mp.getByLabel('Email').fill(MEMBER.email);
    await mp.getByLabel('Password').fill(INITIAL);
    await mp.getByRole('button', { name: 'Sign in' }).click();
    const choose = mp.getByRole('form', { name: 'Choose my password' });
    await choose.getByLabel('Current password').fill(INITIAL);
    await choose.getByLabel('New password', { exact: true }).fill(MEMBER.password);
    await choose.getByLabel('New password again').fill(MEMBER.password);
    await choose.getByRole('button', { name: 'Choose my password' }).click();
    await mp.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
    await mp.getByRole('link', { name: 'My profile' }).waitFor();
    assert.equal(await mp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(), 0);
    const me = await apiFromPage(mp, 'GET', '/api/me');
    assert.equal(me.body.role, 'member');
    assert.deepEqual(me.body.rights, ['create_rooms']);
    const refused = await apiFromPage(mp, 'POST', '/api/users', { name: 'Intruder', email: 'intruder@example.test' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'forbidden');
    await mp.goto('/admin');
    await mp.getByRole('heading', { name: 'Administrators only' }).waitFor();
    assert.deepEqual(admin.errors, []);
    assert.deepEqual(member.errors, []);
  } finally {
    await admin.close();
    await member.close();
  }
});

test('admin edits a member in the dialog and deactivates them; they are greyed out and cannot sign in', async () => {
  const admin = await openBrowser(bureau);
  const member = await openBrowser(bureau);
  try {
    const page = admin.page;
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin');
    await page.getByRole('button', { name: `Edit ${MEMBER.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit ${MEMBER.name}` });
    await dialog.waitFor();
    await dialog.getByLabel('See attendance').check();
    await dialog.getByLabel('Account is active').uncheck();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('.users-table tbody tr', { hasText: MEMBER.name });
    await row.getByText('Deactivated').waitFor();

    await page.goto('/directory');
    await page.locator('.person.inactive', { hasText: MEMBER.name }).waitFor();
    const user = (await apiFromPage(page, 'GET', '/api/users?q=Dorothy')).body.users[0];
    assert.equal(user.active, false);
    assert.deepEqual([...user.rights].sort(), ['create_rooms', 'see_attendance']);

    const mp = member.page;
    await mp.goto('/login');
    await mp.getByLabel('Email').fill(MEMBER.email);
    await mp.getByLabel('Password').fill(MEMBER.password);
    await mp.getByRole('button', { name: 'Sign in' }).click();
    await mp.locator('.form-error[role="alert"]').waitFor();
    assert.equal(new URL(mp.url()).pathname, '/login');

    // Reactivated, the member can sign in again.
    await page.goto('/admin');
    await page.getByRole('button', { name: `Edit ${MEMBER.name}` }).click();
    await dialog.getByLabel('Account is active').check();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('Active', { exact: true }).waitFor();
    await signIn(mp, MEMBER.email, MEMBER.password);

    // Deactivated while signed in: the server closes the office connection (code 4002) and the
    // page goes to the sign-in page by itself.
    const memberId = (await apiFromPage(mp, 'GET', '/api/me')).body.id;
    const off = await apiFromPage(page, 'PATCH', `/api/users/${memberId}`, { active: false });
    assert.equal(off.status, 200);
    await mp.waitForURL('**/login');
    await mp.getByText('Your session has ended. Please sign in again.').waitFor();
  } finally {
    await admin.close();
    await member.close();
  }
});
