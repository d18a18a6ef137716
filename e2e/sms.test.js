// Two-factor sign-in by SMS and two-factor sign-in required by the organisation, against a real
// `bureau serve` whose text messages go to a local stand-in for Twilio's Messages API (twilio.js):
// a member sets up SMS codes on the profile page (the code arrives as a text message) and signs in
// with a texted code; an administrator requires two-factor sign-in, and a member without it sets up
// an authenticator app in the middle of signing in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, signIn, signOut } from './browser.js';
import { startTwilio, codeIn } from './twilio.js';
import { totp } from './totp.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const MAX = { email: 'max@example.test', name: 'Max Planck', password: 'quantum-of-action' };
const MIA = { email: 'mia@example.test', name: 'Mia Hamm', password: 'penalty-kick-1999' };
const LONG = { timeout: 120_000 };

/** @type {import('./twilio.js').Twilio} */
let twilio;
/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];

before(async () => {
  twilio = await startTwilio();
  bureau = await startBureau({ env: twilio.env });
  for (const u of [ADMIN, MAX, MIA]) await bureau.createUser(u);
}, LONG);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (twilio) await twilio.stop();
});

/** @returns {Promise<import('playwright-core').Page>} A page in a fresh browser. */
async function freshPage() {
  const b = await openBrowser(bureau);
  browsers.push(b);
  return b.page;
}

/**
 * Email and password on the sign-in page; stops before what follows.
 * @param {import('playwright-core').Page} page
 * @param {{email: string, password: string}} user
 */
async function password(page, user) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Reads the recovery codes shown once, and confirms they were saved.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>}
 */
async function saveRecoveryCodes(page) {
  const list = page.getByRole('list', { name: 'Recovery codes' });
  await list.waitFor({ timeout: 0 });
  const codes = await list.locator('code').allTextContents();
  await page.getByRole('button', { name: 'I have saved them' }).click();
  return codes;
}

test('a member sets up SMS codes on the profile page, then signs in with a texted code', LONG, async () => {
  const page = await freshPage();
  await signIn(page, MAX.email, MAX.password);
  await page.goto('/profile');
  await page.getByRole('button', { name: 'Use SMS codes' }).click();
  const form = page.getByRole('form', { name: 'Use SMS codes' });
  const phone = form.getByLabel('Mobile number');
  await phone.fill('12');
  await form.getByRole('button', { name: 'Send code' }).click();
  await form.locator('[data-field="phone"] .field-error').getByText(/international form/).waitFor({ timeout: 0 });
  assert.equal(await phone.getAttribute('aria-invalid'), 'true');
  assert.equal(twilio.messages.length, 0, 'nothing is texted to a wrong number');

  await phone.fill('+49 151 1234 5678');
  await form.getByRole('button', { name: 'Send code' }).click();
  const enrolment = await twilio.waitFor(0);
  // Only the number (normalised) and the code leave for the provider: no name, no email.
  assert.equal(enrolment.to, '+4915112345678');
  assert.equal(enrolment.from, twilio.from);
  assert.ok(!enrolment.body.includes('Max') && !enrolment.body.includes('example.test'), enrolment.body);
  const code = form.getByLabel('Code from the SMS');
  await code.waitFor();
  assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
  await code.fill(codeIn(enrolment));
  await form.getByRole('button', { name: 'Confirm' }).click();
  assert.equal((await saveRecoveryCodes(page)).length, 10);
  await page.getByText('Two-factor sign-in is on.').waitFor();
  await page.getByText('To the number ending in 78').waitFor();
  await signOut(page);

  // The second step offers the text message; a wrong code is refused, the texted one signs in.
  await password(page, MAX);
  const step = page.getByRole('form', { name: 'Second step of the sign-in' });
  await step.getByText('Send yourself a code by SMS, then enter it here.').waitFor();
  await step.getByRole('button', { name: 'Send a code by SMS' }).click();
  await page.getByText('A code is on its way to your phone.').waitFor();
  const signInText = await twilio.waitFor(1);
  assert.equal(signInText.to, '+4915112345678');
  const texted = codeIn(signInText);
  await step.getByLabel('Code', { exact: true }).fill(texted === '000000' ? '111111' : '000000');
  await step.getByRole('button', { name: 'Verify' }).click();
  await step.locator('.form-error[role="alert"]').getByText('The code is not correct.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  await step.getByLabel('Code', { exact: true }).fill(texted);
  await step.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL('**/office');
  await page.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  assert.equal(twilio.messages.length, 2, 'one text for the enrolment, one for the sign-in');
  assert.deepEqual(browsers.flatMap((b) => b.errors), []);
});

test('the organisation requires two-factor sign-in: a member sets up an authenticator while signing in', LONG, async () => {
  const admin = await freshPage();
  await signIn(admin, ADMIN.email, ADMIN.password);
  await admin.goto('/admin');
  const settings = admin.getByRole('form', { name: 'Organisation settings' });
  const required = settings.getByRole('switch', { name: 'Require two-factor sign-in' });
  assert.equal(await required.isChecked(), false);
  await required.check();
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByText('Organisation settings saved.').waitFor();
  await admin.reload();
  assert.equal(await admin.getByRole('switch', { name: 'Require two-factor sign-in' }).isChecked(), true, 'saved');

  // Mia has no second factor: after her password she must set up an authenticator app.
  const page = await freshPage();
  await password(page, MIA);
  await page.getByText('Your organisation requires two-factor sign-in. Set up an authenticator app to continue.').waitFor();
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login', 'not signed in yet');
  const secret = (await page.locator('.totp-secret').textContent() || '').replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.getByLabel('Code shown by the app').fill('12');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Enter the 6-digit code.').waitFor();
  await page.getByLabel('Code shown by the app').fill(totp(secret, 0));
  await page.getByRole('button', { name: 'Confirm' }).click();
  assert.equal((await saveRecoveryCodes(page)).length, 10);
  await page.waitForURL('**/office');
  await page.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await page.goto('/profile');
  await page.getByText('Two-factor sign-in is on.').waitFor();
  const facts = page.locator('.security .facts');
  await facts.getByText('Set up', { exact: true }).waitFor();

  // From now on her sign-in asks for the app's code (the next one: the enrolment used this one).
  await signOut(page);
  await password(page, MIA);
  const step = page.getByRole('form', { name: 'Second step of the sign-in' });
  await step.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
  await step.getByLabel('Code', { exact: true }).fill(totp(secret, 1));
  await step.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL('**/office');
  assert.deepEqual(browsers.flatMap((b) => b.errors), []);
});
