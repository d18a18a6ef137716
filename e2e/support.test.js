// In-app support with a real SMTP server: a member asks for help, the admins are emailed, an
// admin answers in the UI, the member gets the answer by email and in "Help & support" and
// resolves the request; the admin's email settings route the next request and its language.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { startMailSink, linkIn } from './mail.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const MEMBER = { email: 'alan@example.test', name: 'Alan Turing', password: 'enigma-machine-1939' };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./mail.js').MailSink} */
let sink;
before(async () => {
  sink = await startMailSink();
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: sink.url } });
  await bureau.createUser(ADMIN);
  await bureau.createUser(MEMBER);
});
after(async () => {
  if (bureau) await bureau.stop();
  if (sink) await sink.stop();
});

/**
 * Sends a request from the Help & support page.
 * @param {import('playwright-core').Page} page
 * @param {string} subject
 * @param {string} message
 */
async function sendRequest(page, subject, message) {
  const form = page.getByRole('form', { name: 'Ask for help' });
  await form.getByLabel('Subject').fill(subject);
  await form.getByLabel('Message').fill(message);
  await form.getByRole('button', { name: 'Send request' }).click();
  await page.getByText('Your request was sent.', { exact: false }).waitFor();
  await page.locator('.ticket', { hasText: subject }).getByText('Open', { exact: true }).waitFor();
}

test('a support request is emailed to the admins, answered in the UI and resolved by its author', async () => {
  const subject = 'Cannot share my screen';
  const question = 'When I click "Share screen" nothing happens.\nChromium on Debian.';
  const answer = 'Please allow screen sharing for this site in the browser settings, then try again.';
  const member = await openBrowser(bureau);
  const admin = await openBrowser(bureau);
  try {
    // The member finds Help & support in the user menu.
    await signIn(member.page, MEMBER.email, MEMBER.password);
    await member.page.getByRole('button', { name: /account menu/ }).click();
    await member.page.locator('#user-menu').getByRole('link', { name: 'Help & support' }).click();
    await member.page.waitForURL('**/support');
    await member.page.getByRole('heading', { name: 'Help & support', level: 1 }).waitFor();
    await member.page.getByText('You have not sent a request yet.').waitFor();
    await sendRequest(member.page, subject, question);

    // Without a support address, every admin is notified.
    const notice = await sink.waitFor((m) => m.rcpt_tos.includes(ADMIN.email), 'support notification');
    assert.equal(notice.subject, `Support request: ${subject}`);
    assert.ok(notice.text.includes(`${MEMBER.name} <${MEMBER.email}>`), notice.text);
    assert.ok(notice.text.includes(question), `the question, decoded:\n${notice.text}`);
    const open = linkIn(notice, '/support');
    assert.equal(open, `${bureau.baseUrl}/support`);

    // The admin sees it on the admin page, follows the email's link and answers.
    await signIn(admin.page, ADMIN.email, ADMIN.password);
    await admin.page.goto('/admin');
    const section = admin.page.locator('.admin-support');
    await section.getByRole('heading', { name: /Support requests/ }).waitFor();
    await section.locator('.ticket', { hasText: subject }).getByText(`From ${MEMBER.name}`, { exact: false }).waitFor();
    await admin.page.goto(open);
    const ticket = admin.page.locator('.ticket', { hasText: subject });
    await ticket.getByText(`From ${MEMBER.name}`, { exact: false }).waitFor();
    await ticket.getByRole('button', { name: 'Send answer' }).click();
    await ticket.getByText('Write an answer first.').waitFor();
    await ticket.getByLabel('Your answer').fill(answer);
    await ticket.getByRole('button', { name: 'Send answer' }).click();
    await admin.page.getByText(`Your answer was sent to ${MEMBER.name}.`).waitFor();
    await ticket.locator('.message.from-support').getByText(answer).waitFor();

    const reply = await sink.waitFor((m) => m.rcpt_tos.includes(MEMBER.email), 'answer email');
    assert.equal(reply.subject, `Re: ${subject}`);
    assert.ok(reply.text.includes(answer), reply.text);

    // The member sees the answer and resolves the request.
    await member.page.reload();
    const own = member.page.locator('.ticket', { hasText: subject });
    await own.locator('.message.from-support').getByText(answer).waitFor();
    await own.getByRole('button', { name: `Mark “${subject}” as resolved` }).click();
    await own.getByText('Resolved', { exact: true }).waitFor();
    const list = await apiFromPage(member.page, 'GET', '/api/support');
    assert.equal(list.body.tickets[0].status, 'resolved');
    assert.equal(await member.page.locator('.ticket', { hasText: subject }).getByRole('button', { name: /resolved/ }).count(), 0);
    assert.deepEqual(member.errors, []);
    assert.deepEqual(admin.errors, []);
  } finally {
    await member.close();
    await admin.close();
  }
});

test('the admin’s email settings route support requests and choose the email language', async () => {
  const admin = await openBrowser(bureau);
  const member = await openBrowser(bureau);
  try {
    await signIn(admin.page, ADMIN.email, ADMIN.password);
    await admin.page.goto('/admin');
    const form = admin.page.getByRole('form', { name: 'Email settings' });
    await form.getByLabel('Support email address').fill('not an address');
    await form.getByRole('button', { name: 'Save email settings' }).click();
    await form.getByText('Enter a valid email address, or leave the field empty.').waitFor();
    await form.getByLabel('Support email address').fill('helpdesk@example.test');
    await form.getByLabel('Email language').selectOption('de');
    await form.getByRole('button', { name: 'Save email settings' }).click();
    await admin.page.getByText('Email settings saved.').waitFor();
    await admin.page.reload();
    assert.equal(await form.getByLabel('Support email address').inputValue(), 'helpdesk@example.test');
    assert.equal(await form.getByLabel('Email language').inputValue(), 'de');

    await signIn(member.page, MEMBER.email, MEMBER.password);
    await member.page.goto('/support');
    await sendRequest(member.page, 'Kamera geht nicht', 'Das Bild bleibt schwarz.');
    const mail = await sink.waitFor((m) => m.rcpt_tos.includes('helpdesk@example.test'), 'support notification to the support address');
    assert.equal(mail.subject, 'Supportanfrage: Kamera geht nicht');

    // Emptying the address sends requests to the admins again.
    await form.getByLabel('Support email address').fill('');
    await form.getByLabel('Email language').selectOption('en');
    await form.getByRole('button', { name: 'Save email settings' }).click();
    await admin.page.getByText('Email settings saved.').waitFor();
    const org = await apiFromPage(admin.page, 'GET', '/api/org');
    assert.equal(org.body.support_email, null);
    assert.equal(org.body.language, 'en');
    assert.deepEqual(admin.errors, []);
    assert.deepEqual(member.errors, []);
  } finally {
    await member.close();
    await admin.close();
  }
});
