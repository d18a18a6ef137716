// (a) The printed setup link (HTTPS, HTTP/2) creates the first administrator, who lands on the office; the link then
// no longer works and the page says what to do instead.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, assertHttp2 } from './browser.js';

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => { bureau = await startBureau(); });
after(async () => { if (bureau) await bureau.stop(); });

test('setup link creates the first admin and lands on the office', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    // The link exactly as `bureau serve` printed it: HTTPS, spoken over HTTP/2.
    await page.goto(bureau.setupUrl);
    await assertHttp2(page);
    await page.getByRole('heading', { name: 'Welcome to Bureau' }).waitFor();
    await page.getByLabel('Your name').waitFor();
    assert.ok(!page.url().includes('token'), `the token must leave the address bar, got ${page.url()}`);
    assert.equal(new URL(page.url()).pathname, '/setup');

    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.test');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm password').fill('short');
    await page.getByRole('button', { name: 'Create administrator account' }).click();
    await page.getByText('The password needs at least 10 characters.').waitFor();

    await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await page.getByLabel('Confirm password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create administrator account' }).click();
    await page.waitForURL('**/office');
    await page.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('heading', { name: 'Directory', level: 1 }).waitFor();
    await page.locator('.person', { hasText: 'Ada Lovelace' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).waitFor();

    const me = await apiFromPage(page, 'GET', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.role, 'admin');
    assert.equal(me.body.email, 'ada@example.test');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a used setup link explains how to get a new one', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await page.goto(bureau.setupUrl);
    await page.getByRole('heading', { name: 'This setup link cannot be used' }).waitFor();
    await page.getByText('bureau admin create-user --admin').waitFor();
    assert.equal(await page.getByLabel('Your name').count(), 0);
    assert.ok(!page.url().includes('token'));
  } finally {
    await b.close();
  }
});
