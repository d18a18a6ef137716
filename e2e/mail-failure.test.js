// When the mail server cannot be reached: an invitation is saved and the admin page says clearly
// that its email still has to be sent (resend later); an answer to a support request is kept
// and the admin is told that its email failed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const MEMBER = { email: 'alan@example.test', name: 'Alan Turing', password: 'enigma-machine-1939' };

/** @returns {Promise<number>} A loopback port nobody listens on (it was free a moment ago). */
function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @type {import('./server.js').Bureau} */
let bureau;
before(async () => {
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` } });
  await bureau.createUser(ADMIN);
  await bureau.createUser(MEMBER);
});
after(async () => { if (bureau) await bureau.stop(); });

test('an invitation whose email fails is saved, and the admin page says to resend it', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin');
    await page.getByRole('button', { name: '+ Invite someone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite someone' });
    await dialog.getByLabel('Name').fill('Ada Lovelace');
    await dialog.getByLabel('Email').fill('ada@example.test');
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.waitFor({ state: 'detached' });
    const notice = page.locator('.invitations .notice[role="alert"]');
    await notice.getByText(/The invitation to ada@example\.test is saved, but the email could not be sent\..*Resend/).waitFor();
    const row = page.locator('.invitations-table tr', { hasText: 'ada@example.test' });
    await row.getByText('Pending').waitFor();

    // Resending while mail is still down says so again.
    await page.evaluate(() => document.querySelector('.invitations .notice')?.setAttribute('hidden', ''));
    await row.getByRole('button', { name: 'Resend the invitation to Ada Lovelace' }).click();
    await notice.waitFor({ state: 'visible' });
    const list = await apiFromPage(page, 'GET', '/api/invitations');
    assert.equal(list.body.invitations.length, 1);
    assert.equal(list.body.invitations[0].status, 'pending');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('an answer whose email fails is kept, and the admin is told', async () => {
  const member = await openBrowser(bureau);
  const admin = await openBrowser(bureau);
  try {
    await signIn(member.page, MEMBER.email, MEMBER.password);
    await member.page.goto('/support');
    const form = member.page.getByRole('form', { name: 'Ask for help' });
    await form.getByLabel('Subject').fill('Printer');
    await form.getByLabel('Message').fill('Where is the printer?');
    await form.getByRole('button', { name: 'Send request' }).click();
    // The notification email fails quietly: the request is stored anyway.
    await member.page.locator('.ticket', { hasText: 'Printer' }).waitFor();

    await signIn(admin.page, ADMIN.email, ADMIN.password);
    await admin.page.goto('/support');
    const ticket = admin.page.locator('.ticket', { hasText: 'Printer' });
    await ticket.getByLabel('Your answer').fill('Second floor, next to the kitchen.');
    await ticket.getByRole('button', { name: 'Send answer' }).click();
    await admin.page.getByText(`Your answer is saved, but the email to ${MEMBER.name} could not be sent.`).waitFor();
    await admin.page.locator('.ticket', { hasText: 'Printer' }).locator('.message.from-support').getByText('Second floor').waitFor();
    assert.deepEqual(admin.errors, []);
  } finally {
    await member.close();
    await admin.close();
  }
});
