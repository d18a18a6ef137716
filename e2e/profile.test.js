// (d) Own-profile edits persist; switching the organisation to the extended profile makes the
// extended fields appear in the editor and on directory cards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'hedy@example.test', name: 'Hedy Lamarr', password: 'frequency-hopping', admin: true };

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau();
  await bureau.createUser(ADMIN);
});
after(async () => { if (bureau) await bureau.stop(); });

test('own profile edits persist and extended fields appear after switching the mode', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await signIn(page, ADMIN.email, ADMIN.password);
    // A wide screen shows the links themselves, no Menu button.
    assert.equal(await page.getByRole('button', { name: 'Menu', exact: true }).isVisible(), false);
    await nav.getByRole('link', { name: 'My profile' }).click();
    await page.waitForURL('**/profile');
    const form = page.getByRole('form', { name: 'Edit my profile' });
    await form.waitFor();
    // Entry mode: only the name is the owner's to edit.
    assert.equal(await form.getByLabel('Work location').count(), 0);
    assert.equal(await form.getByLabel('Title').count(), 0);
    // The sign-in that just happened is listed.
    await page.getByRole('list', { name: 'Recent sign-ins' }).getByText('Signed in').first().waitFor();

    await form.getByLabel('Display name').fill('Hedy Kiesler Lamarr');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your profile has been saved.').waitFor();
    await page.reload();
    await form.waitFor();
    assert.equal(await form.getByLabel('Display name').inputValue(), 'Hedy Kiesler Lamarr');
    await page.getByRole('button', { name: /Hedy Kiesler Lamarr/ }).first().waitFor();

    // An empty name is refused next to the field, by the client or the server.
    await form.getByLabel('Display name').fill('');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.form-error:not([hidden]), .field-error:not([hidden])').first().waitFor();
    await page.reload();
    await form.waitFor();

    // The administrator switches the organisation to the extended profile.
    await nav.getByRole('link', { name: 'Admin' }).click();
    const orgForm = page.getByRole('form', { name: 'Organisation settings' });
    await orgForm.waitFor();
    await orgForm.getByRole('radio', { name: /Extended profile/ }).check();
    await orgForm.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Organisation settings saved.').waitFor();
    const org = await apiFromPage(page, 'GET', '/api/org');
    assert.equal(org.body.profile_mode, 'extended');

    await nav.getByRole('link', { name: 'My profile' }).click();
    await form.waitFor();
    await form.getByLabel('Title').fill('Dr.');
    await form.getByLabel('Work location').fill('Vienna office');
    await form.getByLabel('Mobile phone').fill('+43 660 1234567');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your profile has been saved.').waitFor();
    await page.reload();
    await form.waitFor();
    assert.equal(await form.getByLabel('Title').inputValue(), 'Dr.');
    assert.equal(await form.getByLabel('Work location').inputValue(), 'Vienna office');
    assert.equal(await form.getByLabel('Mobile phone').inputValue(), '+43 660 1234567');

    // Clearing a field removes it.
    await form.getByLabel('Title').fill('');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Your profile has been saved.').waitFor();
    const me = await apiFromPage(page, 'GET', '/api/me');
    assert.equal(me.body.title, undefined);
    assert.equal(me.body.work_location, 'Vienna office');

    // The directory card shows the extended fields, the phone as a tel: link.
    await nav.getByRole('link', { name: 'Directory' }).click();
    const card = page.locator('.person', { hasText: 'Hedy Kiesler Lamarr' });
    await card.waitFor();
    await card.getByText('Vienna office').waitFor();
    assert.equal(await card.getByRole('link', { name: '+43 660 1234567' }).getAttribute('href'), 'tel:+436601234567');
    await card.getByRole('button', { name: 'Hedy Kiesler Lamarr' }).click();
    const detail = page.getByRole('dialog', { name: 'Colleague' });
    await detail.getByText('Vienna office').waitFor();
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('every page fits a 360 px wide screen without sideways scrolling', async () => {
  const b = await openBrowser(bureau, { width: 360, height: 740 });
  try {
    const { page } = b;
    /** @param {string} where */
    const fits = async (where) => {
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= inner, `${where}: the page is ${scroll}px wide on a ${inner}px screen`);
    };
    await page.goto('/login');
    await page.getByLabel('Email').waitFor();
    await fits('sign-in');
    await signIn(page, ADMIN.email, ADMIN.password);
    await fits('office');
    await page.goto('/directory');
    await page.locator('.person').first().waitFor();
    await fits('directory');
    // The main navigation folds behind a Menu button: opened, its first link takes the focus;
    // Escape closes it, back on the button; a link followed closes it too.
    const nav = page.getByRole('navigation', { name: 'Main' });
    const menu = page.getByRole('button', { name: 'Menu', exact: true });
    assert.equal(await nav.isVisible(), false, 'folded');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Office');
    await fits('open menu');
    await page.keyboard.press('Escape');
    assert.equal(await nav.isVisible(), false, 'closed by Escape');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Menu');
    await menu.click();
    await nav.getByRole('link', { name: 'My profile' }).click();
    await page.getByRole('form', { name: 'Edit my profile' }).waitFor();
    assert.equal(await nav.isVisible(), false, 'closed after following a link');
    // Extended profile (the first test switched it on): the Calendar card with its forms too.
    await page.getByRole('form', { name: 'Add a busy time' }).waitFor();
    await fits('profile');
    await menu.click();
    await nav.getByRole('link', { name: 'Admin' }).click();
    await page.locator('.users-table').waitFor();
    await fits('admin');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('dialog', { name: 'Add user' }).waitFor();
    await fits('add-user dialog');
    await page.keyboard.press('Escape');
    // The first test switched the organisation to the extended profile, which absences need.
    await page.goto('/absences');
    await page.getByRole('form', { name: 'Enter an absence' }).waitFor();
    await fits('absences');
    await page.goto('/attendance');
    await page.getByRole('list', { name: 'Days of the week' }).waitFor();
    await fits('attendance');
  } finally {
    await b.close();
  }
});
