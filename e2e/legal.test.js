// The administrator's legal texts against a real `bureau serve` and a real SMTP sink: the terms
// of use edited in Markdown show, versioned, on the public /terms page and on an invitee's
// registration page, until "Use Bureau's default" brings the default back; the consent text
// edited the same way is what a member who consented to the old one is asked again with, what
// the organisation's confirmation email names by version, and what a guest reads.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { startMailSink, linkIn } from './mail.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice } from './office.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const ROOM = 'Boardroom';
const LONG = { timeout: 120_000 };

/** @type {import('./mail.js').MailSink} */
let sink;
/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let admin;
/** @type {import('playwright-core').Page} */ let bob;
let roomId = '';

before(async () => {
  sink = await startMailSink();
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: sink.url } });
  for (const u of [ADMIN, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  [admin, bob] = browsers.map((b) => b.page);
  await enterOffice(admin, ADMIN);
  // Bob consents to Bureau's default consent text (version 0), as on his first day.
  await enterOffice(bob, BOB);
  const created = await apiFromPage(admin, 'POST', '/api/rooms', { name: ROOM, kind: 'meeting', capacity: 8 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  roomId = created.body.id;
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (sink) await sink.stop();
});

/** @returns {Promise<import('playwright-core').Page>} A page in a fresh browser, signed in as nobody. */
async function visitor() {
  const b = await openBrowser(bureau);
  browsers.push(b);
  return b.page;
}

/**
 * Writes a legal text in its editor on /privacy-admin, saves it and waits until the editor names
 * the new version.
 * @param {string} label 'terms of use' or 'consent text'
 * @param {string} markdown
 * @param {number} version The version the save makes.
 * @returns {Promise<import('playwright-core').Locator>} The editor's form.
 */
async function saveText(label, markdown, version) {
  if (new URL(admin.url()).pathname !== '/privacy-admin') await admin.goto('/privacy-admin');
  const form = admin.getByRole('form', { name: `Edit the ${label}` });
  await form.getByLabel('Markdown').fill(markdown);
  await form.getByRole('button', { name: `Save ${label}` }).click();
  await form.getByText(new RegExp(`^Your own text, version ${version}, saved `)).waitFor();
  return form;
}

test('the terms of use: edited, versioned, shown on /terms and to an invitee; the default comes back', LONG, async () => {
  await admin.goto('/privacy-admin');
  const form = admin.getByRole('form', { name: 'Edit the terms of use' });
  await form.getByText(/^Bureau’s default text is shown\./).waitFor();
  await form.getByLabel('Markdown').fill('# House rules\n\nBe **kind** to colleagues.\n\n- No recordings of calls');
  await form.getByRole('region', { name: 'Preview of the terms of use' }).getByRole('heading', { name: 'House rules' }).waitFor();
  await form.getByRole('button', { name: 'Save terms of use' }).click();
  await admin.getByText('The terms of use was saved.').waitFor();
  await form.getByText(/^Your own text, version 1, saved /).waitFor();

  const page = await visitor();
  await page.goto('/terms');
  await page.getByRole('heading', { name: 'House rules', level: 2 }).waitFor();
  await page.getByText('No recordings of calls').waitFor();
  await page.getByText('Version 1,', { exact: false }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Acceptable use' }).count(), 0, 'not the default terms');

  await saveText('terms of use', '# House rules\n\nBe **kind** to colleagues.\n\n- No recordings of calls\n- Be on time', 2);
  await page.reload();
  await page.getByText('Be on time').waitFor();
  await page.getByText('Version 2,', { exact: false }).waitFor();

  // An invitee reads them before registering (the invitation email links to /terms too).
  const invited = await apiFromPage(admin, 'POST', '/api/invitations', { name: 'Katherine Johnson', email: 'katherine@example.test' });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));
  const mail = await sink.waitFor((m) => m.rcpt_tos.includes('katherine@example.test'), 'invitation email');
  linkIn(mail, '/terms');
  await page.goto(linkIn(mail, '/register#token='));
  const box = page.getByRole('region', { name: 'Terms of use' });
  await box.getByRole('heading', { name: 'House rules' }).waitFor();
  await box.getByText('Be on time').waitFor();

  await form.getByRole('button', { name: 'Use Bureau’s default' }).click();
  await admin.getByText('The terms of use is Bureau’s default again.').waitFor();
  await form.getByText(/^Bureau’s default text is shown\./).waitFor();
  await page.goto('/terms');
  await page.getByRole('heading', { name: 'Acceptable use' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'House rules' }).count(), 0);
  assert.deepEqual(browsers.flatMap((b) => b.errors), []);
});

test('the consent text: a member is asked again with the new text, the email names its version, a guest reads it', LONG, async () => {
  await saveText('consent text', '## Cameras in the Boardroom\n\nWe **never** record calls.\n\n- Ask the host when unsure', 1);
  await admin.getByText('The consent text was saved.').waitFor();

  // Bob agreed to version 0: walking into a room asks him again, with the organisation's text.
  await bob.getByRole('button', { name: `Walk in: ${ROOM}` }).click();
  const dialog = bob.getByRole('dialog', { name: 'Camera and microphone' });
  const text = dialog.getByRole('region', { name: 'Consent text' });
  await text.getByRole('heading', { name: 'Cameras in the Boardroom' }).waitFor({ timeout: 0 });
  await text.getByText('Ask the host when unsure').waitFor();
  assert.equal(await text.getByText('Before your camera or microphone is used').count(), 0, 'not the default text');
  await dialog.getByLabel('Microphone', { exact: true }).check();
  await dialog.getByRole('button', { name: 'I agree' }).click();
  await dialog.waitFor({ state: 'detached' });
  const consents = await apiFromPage(bob, 'GET', '/api/consents');
  assert.equal(consents.body.consents[0].template_version, 1, 'the consent is to the new text');
  assert.equal(consents.body.consents[0].microphone, true);
  const confirmation = await sink.waitFor((m) => m.text.includes(BOB.name) && m.text.includes('consent text version 1'), 'consent confirmation of version 1');
  assert.ok(confirmation.rcpt_tos.includes(ADMIN.email), confirmation.rcpt_tos.join());
  await bob.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();

  // A guest reads the same text before camera and microphone.
  const link = await apiFromPage(admin, 'POST', `/api/rooms/${roomId}/guest-links`, {});
  assert.equal(link.status, 201, JSON.stringify(link.body));
  const guest = await visitor();
  await guest.goto(link.body.url);
  await guest.getByLabel('Your name').fill('Grace Guest');
  await guest.getByRole('button', { name: 'Continue', exact: true }).click();
  const guestText = guest.getByRole('region', { name: 'Consent text' });
  await guestText.getByRole('heading', { name: 'Cameras in the Boardroom' }).waitFor({ timeout: 0 });
  await guestText.getByText('Ask the host when unsure').waitFor();
  assert.equal(await guestText.getByText('Before your camera or microphone is used').count(), 0);
  assert.deepEqual(browsers.flatMap((b) => b.errors), []);
});
